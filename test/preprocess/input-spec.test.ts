import type { InputSpec } from '../../src/config';
import { compileInputSpec, createPreprocessor } from '../../src/preprocess';
import { plainSpec } from './images';

describe('compiling an input spec', () => {
  it('sizes the tensor and tabulates (v / scale - mean) / std per channel', () => {
    const plan = compileInputSpec(plainSpec({ width: 5, height: 7, mean: [0.1, 0.2, 0.3], std: [0.5, 0.25, 2] }));
    expect(plan.length).toBe(3 * 5 * 7);
    expect(plan.lut).toHaveLength(3);
    expect(plan.lut[1]?.[255]).toBeCloseTo((1 - 0.2) / 0.25, 6);
    expect(plan.lut[2]?.[0]).toBeCloseTo(-0.15, 6);
  });

  it('takes the gray background as 601 luma', () => {
    expect(compileInputSpec(plainSpec({ background: [255, 255, 255] })).backgroundGray).toBe(255);
    expect(compileInputSpec(plainSpec({ background: [255, 0, 0] })).backgroundGray).toBe(76);
  });

  it.each<[string, Partial<InputSpec>]>([
    ['resize plus pad not matching the tensor size', { pad: [1, 0, 0, 0] }],
    ['channels and colour space disagreeing', { colorSpace: 'gray' }],
    ['mean of the wrong length', { mean: [0.5] }],
    ['a zero std', { std: [1, 0, 1] }],
    ['a background out of range', { background: [0, 0, 256] }],
    ['a non-integer size', { width: 16.5 }],
    ['a zero scale', { scale: 0 }],
  ])('refuses %s with MODEL_INVALID', (_name, overrides) => {
    expect(() => createPreprocessor({ ...plainSpec(), ...overrides })).toThrow(expect.objectContaining({ code: 'MODEL_INVALID' }));
  });
});

import sharp from 'sharp';
import type { InputSpec } from '../../src/config';
import { type EeroError } from '../../src/errors';
import { tensorWriter } from '../../src/pipeline/tensor-input';
import { createPreprocessor } from '../../src/preprocess';

const rgb: InputSpec = {
  channels: 3,
  colorSpace: 'srgb',
  height: 4,
  width: 4,
  resize: { width: 4, height: 4, fit: 'fill' },
  pad: [0, 0, 0, 0],
  background: [0, 0, 0],
  scale: 255,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

const refused = (f: () => void): EeroError => {
  try {
    f();
  } catch (e) {
    return e as EeroError;
  }
  throw new Error('not refused');
};

describe('tensor inputs (already decoded pixels)', () => {
  test('UINT8 pixels in CHW are normalised exactly as the decoder normalises the same image', async () => {
    // Every plane different, so a mixed-up layout cannot pass.
    const hwc = Buffer.from(Array.from({ length: 4 * 4 * 3 }, (_, i) => (i * 37 + (i % 3) * 90) % 256));
    const png = await sharp(hwc, { raw: { width: 4, height: 4, channels: 3 } })
      .png()
      .toBuffer();
    const decoded = (await createPreprocessor(rgb).preprocess(png, { limitInputPixels: 1e6 })).data;
    const chw = new Uint8Array(48);
    for (let c = 0; c < 3; c++) for (let i = 0; i < 16; i++) chw[c * 16 + i] = hwc[i * 3 + c] as number;
    const target = new Float32Array(48 + 5).fill(-9);
    tensorWriter(rgb)({ pixels: chw }, target, 5);
    expect(Array.from(target.subarray(5))).toEqual(Array.from(decoded));
    expect(target[4]).toBe(-9);
  });

  test('FP32 values are copied as they are', () => {
    const values = Float32Array.from({ length: 48 }, (_, i) => i / 7 - 3);
    const target = new Float32Array(96);
    tensorWriter(rgb)({ pixels: values }, target, 48);
    expect(Array.from(target.subarray(48))).toEqual(Array.from(values));
  });

  test('a wrong length or a non-finite FP32 value is BAD_REQUEST, naming it', () => {
    const write = tensorWriter(rgb);
    const target = new Float32Array(48);
    const short = refused(() => write({ pixels: new Float32Array(47) }, target, 0));
    expect([short.code, short.message]).toEqual(['BAD_REQUEST', 'an input tensor must hold 48 values ([3, 4, 4]), got 47']);
    const inf = new Float32Array(48);
    inf[30] = -Infinity;
    const bad = refused(() => write({ pixels: inf }, target, 0));
    expect([bad.code, bad.message]).toEqual(['BAD_REQUEST', 'the FP32 input has a non-finite value (-Infinity) at element 30']);
  });
});

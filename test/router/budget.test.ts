import { parseBudget } from '../../src/config';
import { resolveBudget, validateCosts } from '../../src/router';

const bad = expect.objectContaining({ code: 'BAD_PARAMETER' });

describe('parseBudget', () => {
  it('reads numbers up to 1 and percentages as fractions of the full model', () => {
    expect(parseBudget(0.5)).toEqual({ fraction: 0.5 });
    expect(parseBudget('0.5')).toEqual({ fraction: 0.5 });
    expect(parseBudget('50%')).toEqual({ fraction: 0.5 });
    expect(parseBudget('1')).toEqual({ fraction: 1 });
  });

  it('reads larger numbers and K/M/G suffixes as MACs', () => {
    expect(parseBudget('6e8')).toEqual({ macs: 6e8 });
    expect(parseBudget('600M')).toEqual({ macs: 6e8 });
    expect(parseBudget('1.2G')).toEqual({ macs: 1.2e9 });
    expect(parseBudget('600000000 MACs')).toEqual({ macs: 6e8 });
    expect(parseBudget(6e8)).toEqual({ macs: 6e8 });
  });

  it('refuses NaN, zero, negatives, junk and absurd values', () => {
    for (const raw of [NaN, 0, -0.5, '-1', 'half', '', '150%', '1e16', Infinity, '50%MACs']) {
      expect(() => parseBudget(raw)).toThrow(bad);
    }
  });
});

describe('resolveBudget', () => {
  const macs = [1e8, 3e8, 6e8];
  it('turns a fraction into cost units of the full model', () => {
    expect(resolveBudget({ fraction: 0.5 }, macs)).toBe(3e8);
  });
  it('takes MACs as they are when costs are MACs', () => {
    expect(resolveBudget({ macs: 2e8 }, macs)).toBe(2e8);
  });
  it('maps MACs onto other cost units through the fraction of full MACs', () => {
    const seconds = [0.002, 0.004, 0.01];
    expect(resolveBudget({ macs: 3e8 }, seconds, macs)).toBeCloseTo(0.005, 15);
  });
});

describe('validateCosts', () => {
  it('refuses decreasing, non-positive or mis-sized costs', () => {
    expect(() => validateCosts([1, 3, 2])).toThrow(bad);
    expect(() => validateCosts([0, 1])).toThrow(bad);
    expect(() => validateCosts([1, NaN])).toThrow(bad);
    expect(() => validateCosts([1, 2], 3)).toThrow(bad);
    expect(Array.from(validateCosts([1, 1, 2]))).toEqual([1, 1, 2]);
  });
});

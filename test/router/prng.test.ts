import { fillRowNoise, mulberry32 } from '../../src/router';
import { mixSeed, rowStream } from '../../src/router/prng';

describe('mulberry32', () => {
  it('repeats the same sequence for the same seed', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    for (let i = 0; i < 100; i++) expect(a()).toBe(b());
  });

  it('draws in [0, 1) with a mean near 1/2', () => {
    const r = mulberry32(7);
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < 20000; i++) {
      const x = r();
      min = Math.min(min, x);
      max = Math.max(max, x);
      sum += x;
    }
    // The extremes of all 20,000 draws, checked once (40,000 expect calls cost more than the draws).
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(sum / 20000).toBeCloseTo(0.5, 2);
  });
});

describe('mixSeed and rowStream', () => {
  it('gives different streams to neighbouring rows and exits', () => {
    const firsts = new Set<number>();
    for (let key = 0; key < 50; key++) for (let exit = 0; exit < 4; exit++) firsts.add(rowStream(1, key, exit)());
    expect(firsts.size).toBe(200);
  });

  it('depends on words above 2^32', () => {
    expect(mixSeed(0, 2 ** 32)).not.toBe(mixSeed(0, 0));
    expect(mixSeed(1, 2)).not.toBe(mixSeed(2, 1));
  });
});

describe('fillRowNoise', () => {
  it('writes the draws of rowStream times the scale, bit for bit, for small and 53-bit keys', () => {
    const cases = [
      [0, 0, 0],
      [7, 123456, 3],
      [2 ** 31 + 5, 2 ** 52 + 17, 11],
      [42, Number.MAX_SAFE_INTEGER, 0],
    ] as const;
    for (const [seed, key, exit] of cases) {
      const out = new Float64Array(3 + 10).fill(-1);
      fillRowNoise(seed, key, exit, 1e-9, out, 3, 10);
      const next = rowStream(seed, key, exit);
      const expected = [-1, -1, -1, ...Array.from({ length: 10 }, () => 1e-9 * next())];
      expect(Array.from(out)).toEqual(expected);
    }
  });
});

import { mulberry32, rowStream } from '../../src/router';
import { mixSeed } from '../../src/router/prng';

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

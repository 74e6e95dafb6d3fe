import { wilsonInterval } from '../../src/router';
import { codeOf } from '../support/eero-failure';

describe('Wilson score interval', () => {
  it("matches Newcombe (1998)'s published 95% intervals", () => {
    // [successes, n, lower, upper]: Newcombe 1998's worked examples, method 3 (score, no continuity correction).
    const known: [number, number, number, number][] = [
      [81, 263, 0.2553, 0.3662],
      [15, 148, 0.0624, 0.1605],
      [0, 20, 0, 0.1611],
      [1, 29, 0.0061, 0.1718],
    ];
    for (const [s, n, lo, hi] of known) {
      const w = wilsonInterval(s, n);
      expect(w.ratio).toBe(s / n);
      expect(w.lower).toBeCloseTo(lo, 4);
      expect(w.upper).toBeCloseTo(hi, 4);
    }
  });

  it('reaches exactly 0 and 1 at 0 and n successes, with the closed-form other end', () => {
    const z = 1.959964;
    const none = wilsonInterval(0, 10);
    expect(none.lower).toBe(0);
    expect(none.upper).toBeCloseTo((z * z) / (10 + z * z), 12);
    const all = wilsonInterval(10, 10);
    expect(all.upper).toBe(1);
    expect(all.lower).toBeCloseTo(10 / (10 + z * z), 12);
  });

  it('is symmetric under swapping successes and failures', () => {
    const a = wilsonInterval(3, 40);
    const b = wilsonInterval(37, 40);
    expect(a.lower).toBeCloseTo(1 - b.upper, 14);
    expect(a.upper).toBeCloseTo(1 - b.lower, 14);
  });

  it('narrows as z falls and widens as it grows', () => {
    const one = wilsonInterval(5, 10, 1);
    const ninetyNine = wilsonInterval(5, 10, 2.575829);
    expect(one.lower).toBeCloseTo(0.5 - 0.5 / Math.sqrt(11), 12); // z = 1, p = 1/2: half-width 1 / (2 sqrt(n + 1))
    expect(ninetyNine.lower).toBeCloseTo(0.1842, 4);
    expect(one.upper - one.lower).toBeLessThan(ninetyNine.upper - ninetyNine.lower);
  });

  it('gives the vacuous [0, 1] with a NaN ratio for n = 0, and refuses impossible counts', () => {
    const w = wilsonInterval(0, 0);
    expect(w.ratio).toBeNaN();
    expect([w.lower, w.upper]).toEqual([0, 1]);
    expect(codeOf(() => wilsonInterval(4, 3))).toBe('BAD_PARAMETER');
    expect(codeOf(() => wilsonInterval(1.5, 3))).toBe('BAD_PARAMETER');
    expect(codeOf(() => wilsonInterval(1, 3, 0))).toBe('BAD_PARAMETER');
  });
});

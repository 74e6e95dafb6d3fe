import { bentkusPValue, binomialCdf, binomialLogCdf, binomialLogPmf, hoeffdingBentkusPValue, hoeffdingPValue } from '../../src/router';
import { codeOf } from '../support/eero-failure';

/** P(Bin(n, p) <= k) by the textbook sum of C(n, j) p^j q^(n-j), fine for small n. */
function bruteCdf(k: number, n: number, p: number): number {
  let s = 0;
  let choose = 1;
  for (let j = 0; j <= Math.min(k, n); j++) {
    s += choose * p ** j * (1 - p) ** (n - j);
    choose = (choose * (n - j)) / (j + 1);
  }
  return s;
}

describe('binomial tail', () => {
  it('matches known values (mpmath / scipy, 17 digits) to 1e-12 relative', () => {
    // [k, n, p, P(Bin(n, p) <= k)]
    const known: [number, number, number, number][] = [
      [2, 10, 0.5, 0.0546875],
      [5, 20, 0.3, 0.41637082944748144],
      [12, 2500, 0.01, 0.003032904011533013],
      [3, 300, 0.001, 0.9997386714585338],
      [9800, 1e6, 0.01, 0.02221251036473651],
      [10100, 1e6, 0.01, 0.8437605031450768],
      [9000, 1e6, 0.01, 8.350415916923583e-25],
      [0, 1e6, 1e-5, 4.539765980761299e-5],
      [499000, 1e6, 0.5, 0.0228041499326948],
      [500500, 1e6, 0.5, 0.8415865958480527],
    ];
    for (const [k, n, p, want] of known) {
      const got = binomialCdf(k, n, p);
      expect(Math.abs(got - want) / want).toBeLessThan(1e-12);
    }
  });

  it('stays finite in log space far below double precision (n = 1e6)', () => {
    expect(binomialLogCdf(0, 1e6, 0.01)).toBeCloseTo(-10050.335853501441, 8);
    expect(binomialLogCdf(100, 1e6, 0.01) / -9492.031159117261).toBeCloseTo(1, 12);
    expect(binomialCdf(100, 1e6, 0.01)).toBe(0);
  });

  it('agrees with a brute-force sum for every k of small n', () => {
    for (const n of [1, 2, 5, 17, 60]) {
      for (const p of [0.001, 0.05, 0.3, 0.5, 0.97]) {
        for (let k = 0; k <= n; k++) {
          const want = bruteCdf(k, n, p);
          expect(Math.abs(binomialCdf(k, n, p) - want)).toBeLessThan(1e-13 * Math.max(want, 1e-300) + 1e-300);
        }
      }
    }
  });

  it('has pmf terms that sum to one', () => {
    let s = 0;
    for (let k = 0; k <= 400; k++) s += Math.exp(binomialLogPmf(k, 400, 0.013));
    expect(s).toBeCloseTo(1, 13);
  });

  it('handles the edges: k < 0, k >= n, p = 0 and p = 1', () => {
    expect(binomialCdf(-1, 10, 0.5)).toBe(0);
    expect(binomialCdf(10, 10, 0.5)).toBe(1);
    expect(binomialCdf(0, 10, 0)).toBe(1);
    expect(binomialCdf(9, 10, 1)).toBe(0);
    expect(binomialCdf(0, 0, 0.3)).toBe(1);
    expect(codeOf(() => binomialCdf(1.5, 10, 0.5))).toBe('BAD_PARAMETER');
    expect(codeOf(() => binomialCdf(1, 10, 1.2))).toBe('BAD_PARAMETER');
  });

  it('is a valid p-value: P(p-value <= u) <= u whenever the true rate is >= alpha (exact enumeration)', () => {
    const n = 80;
    const alpha = 0.05;
    for (const r of [0.05, 0.06, 0.1]) {
      for (const u of [0.01, 0.05, 0.1, 0.3]) {
        let mass = 0;
        for (let k = 0; k <= n; k++) if (binomialCdf(k, n, alpha) <= u) mass += Math.exp(binomialLogPmf(k, n, r));
        expect(mass).toBeLessThanOrEqual(u + 1e-12);
      }
    }
  });
});

describe('Hoeffding–Bentkus', () => {
  it('is never smaller than the exact binomial tail for a 0/1 loss', () => {
    // Equal (up to rounding) at k = 0, where the Chernoff bound is exact: (1 - alpha)^n.
    for (const n of [50, 500, 5000]) {
      for (const alpha of [0.005, 0.01, 0.1]) {
        for (let k = 0; k <= n * alpha * 2; k++) {
          const exact = binomialCdf(k, n, alpha);
          expect(hoeffdingBentkusPValue(k / n, n, alpha)).toBeGreaterThanOrEqual(exact * (1 - 1e-12));
          expect(hoeffdingPValue(k / n, n, alpha)).toBeGreaterThanOrEqual(exact * (1 - 1e-12));
        }
      }
    }
  });

  it('is e times the binomial tail (Bentkus) or the Chernoff bound (Hoeffding), capped at 1', () => {
    expect(bentkusPValue(12 / 2500, 2500, 0.01)).toBeCloseTo(Math.E * 0.003032904011533013, 15);
    expect(hoeffdingPValue(0, 300, 0.01) / 0.99 ** 300).toBeCloseTo(1, 13);
    expect(hoeffdingPValue(0.02, 300, 0.01)).toBe(1);
    expect(hoeffdingBentkusPValue(0.5, 100, 0.01)).toBe(1);
  });
});

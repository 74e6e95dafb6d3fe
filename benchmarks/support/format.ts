/** Number formatting and statistics shared by the reports. */

export const pct = (v: number, digits = 2): string => (Number.isFinite(v) ? (100 * v).toFixed(digits) : 'n/a');
export const fixed = (v: number, digits = 2): string => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** Sample standard deviation (n - 1); 0 for one value. */
export function std(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

export function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? (s[h] as number) : ((s[h - 1] as number) + (s[h] as number)) / 2;
}

/** "mean ± std" of fractions, in percent. */
export const pctMeanStd = (xs: readonly number[], digits = 2): string => `${pct(mean(xs), digits)} ± ${pct(std(xs), digits)}`;

export const si = (v: number): string => {
  const units: Array<[number, string]> = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  const u = units.find(([f]) => Math.abs(v) >= f);
  return u ? `${(v / u[0]).toPrecision(3)}${u[1]}` : v.toPrecision(3);
};

/** Number formats in the reader's locale (no DOM): the page shows these, its data-value attributes the raw numbers. */

const nf = (digits: number): Intl.NumberFormat =>
  new Intl.NumberFormat(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });

const SI: ReadonlyArray<readonly [number, string]> = [
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
];

export const fmt = {
  int: (n: number): string => nf(0).format(Math.round(n)),
  pct: (ratio: number | null | undefined, digits = 1): string =>
    ratio === null || ratio === undefined ? '—' : nf(digits).format(ratio * 100) + '%',
  rate: (n: number): string => nf(n >= 100 ? 0 : n >= 10 ? 1 : 2).format(n),
  seconds: (s: number): string => (s >= 1 ? nf(2).format(s) + ' s' : nf(s >= 0.01 ? 0 : 1).format(s * 1000) + ' ms'),
  /** (34755264, 'MACs') -> "34.76 M MACs"; (262144, 'B') -> "262.14 kB" (a one-letter unit takes the prefix). */
  si: (n: number, unit: string): string => {
    for (const [f, p] of SI) if (Math.abs(n) >= f) return nf(2).format(n / f) + ' ' + p + (unit.length > 1 ? ' ' : '') + unit;
    return nf(0).format(n) + ' ' + unit;
  },
  ms: (n: number): string => nf(n >= 10 ? 0 : 1).format(n) + ' ms',
};

/** The message of whatever was thrown, when it has a non-empty one. */
export function messageOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('message' in err)) return undefined;
  const { message } = err;
  return typeof message === 'string' && message !== '' ? message : undefined;
}

import {
  advanceHistory,
  DEFAULT_FEATURES,
  emptyHistory,
  exitStats,
  featureVector,
  FEATURE_NAMES,
  LEARNED_FEATURES,
  MARGIN_FEATURES,
  marginOnly,
  slog,
  type FeatureName,
} from '../../../src/router';

/** Features of a row that shows these probabilities at exits 0, 1, 2..., in order. */
function walk(rows: number[][], names: readonly FeatureName[] = FEATURE_NAMES): Record<string, number>[] {
  const h = emptyHistory();
  return rows.map((p) => {
    const s = exitStats(p);
    const x = featureVector(names, s, h);
    advanceHistory(h, s);
    return Object.fromEntries(names.map((n, j) => [n, x[j] as number]));
  });
}

describe('exit statistics of one probability row', () => {
  it('takes top-1, top-2 and the prediction in one scan', () => {
    expect(exitStats([0.1, 0.6, 0.3])).toEqual({ top1: 0.6, top2: 0.3, prediction: 1, negEntropy: expect.any(Number) as number });
    expect(exitStats([0.5, 0.2, 0.3]).top2).toBe(0.3);
  });

  it('gives an exact tie to the lower class, with a zero margin', () => {
    const s = exitStats([0.2, 0.4, 0.4]);
    expect(s.prediction).toBe(1);
    expect(s.top1 - s.top2).toBe(0);
  });

  it('sums p log p over the positive probabilities only', () => {
    expect(exitStats([0.5, 0.5, 0]).negEntropy).toBeCloseTo(Math.log(0.5), 15);
    expect(exitStats([1, 0, 0]).negEntropy).toBe(0);
  });
});

describe('learned-score features along one row', () => {
  const rows = [
    [0.7, 0.2, 0.1],
    [0.6, 0.3, 0.1],
    [0.1, 0.1, 0.8],
    [0.05, 0.05, 0.9],
  ];
  const f = walk(rows);

  it('reads the margin, its logs and the log-odds of top-1 against top-2', () => {
    expect(f[0]?.margin).toBeCloseTo(0.5, 15);
    expect(f[0]?.logMargin).toBe(Math.log(0.7 - 0.2 + 1e-6));
    expect(f[0]?.log1mMargin).toBe(Math.log(1 - (0.7 - 0.2) + 1e-6));
    expect(f[0]?.logGap).toBe(Math.log(0.7 + 1e-6) - Math.log(0.2 + 1e-6));
    expect(f[0]?.maxprob).toBe(0.7);
    expect(f[0]?.log1mMaxprob).toBe(Math.log(1 - 0.7 + 1e-6));
  });

  it('counts agreement with the previous exit and the streak ending here', () => {
    expect(f.map((r) => r.agree)).toEqual([0, 1, 0, 1]);
    expect(f.map((r) => r.streak)).toEqual([1, 2, 1, 2]);
  });

  it('reads earlier margins only: previous, largest and mean, 0 at the first exit', () => {
    const m = rows.map((p) => exitStats(p)).map((s) => s.top1 - s.top2);
    expect(f.map((r) => r.prevMargin)).toEqual([0, m[0], m[1], m[2]]);
    expect(f.map((r) => r.maxPrevMargin)).toEqual([
      0,
      m[0],
      Math.max(m[0] as number, m[1] as number),
      Math.max(m[0] as number, m[1] as number, m[2] as number),
    ]);
    expect(f[3]?.meanPrevMargin).toBe(((m[0] as number) + (m[1] as number) + (m[2] as number)) / 3);
    expect(f[0]?.meanPrevMargin).toBe(0);
  });

  it("does not look ahead: an exit's features do not depend on later exits", () => {
    const changedLater = walk([rows[0] as number[], rows[1] as number[], [0.9, 0.05, 0.05]]);
    expect(changedLater[0]).toEqual(f[0]);
    expect(changedLater[1]).toEqual(f[1]);
  });

  it('keeps every log finite when the tie noise lifts top-1 above 1', () => {
    expect(Number.isFinite(slog(1 - 1.000009))).toBe(true);
    const r = walk([[1.000009, 0.000004, 0.000002]])[0] as Record<string, number>;
    for (const name of FEATURE_NAMES) expect(Number.isFinite(r[name])).toBe(true);
  });
});

describe('feature lists', () => {
  it('documents every feature', () => {
    for (const name of FEATURE_NAMES) expect(LEARNED_FEATURES[name].doc.length).toBeGreaterThan(3);
  });

  it('marks the margin-only ones: the defaults need top-1 (logGap), the margin list does not', () => {
    expect(marginOnly(DEFAULT_FEATURES)).toBe(false);
    expect(marginOnly(MARGIN_FEATURES)).toBe(true);
    expect(marginOnly(['negEntropy'])).toBe(false);
  });

  it('computes margin-only features identically from (margin, top2 = 0) as from the probabilities', () => {
    const rows = [
      [0.5, 0.3, 0.2],
      [0.45, 0.35, 0.2],
      [0.2, 0.7, 0.1],
    ];
    const fromProbs = walk(rows, MARGIN_FEATURES);
    const h = emptyHistory();
    const fromMargin = rows.map((p) => {
      const full = exitStats(p);
      const s = { top1: full.top1 - full.top2, top2: 0, prediction: full.prediction, negEntropy: NaN };
      const x = featureVector(MARGIN_FEATURES, s, h);
      advanceHistory(h, s);
      return Object.fromEntries(MARGIN_FEATURES.map((n, j) => [n, x[j] as number]));
    });
    expect(fromMargin).toEqual(fromProbs);
  });
});

/**
 * The features of the learned exit score (issue 18): what one row shows at
 * exit l, from its tie-noised float64 probabilities there and from running
 * values of the exits before (no look-ahead). Every feature is a float64
 * formula over a few numbers so that the early-exit graph can recompute it
 * bit for bit; the formulas below are the specification.
 *
 * Notation, at 0-based exit l of one row: `p` = softmaxRow(logits, T) then
 * addTieNoise(p, seed, key, l) (scores.ts), not renormalised. Scanning
 * c = 0..K-1 in order: if p[c] > top1 then (top2 = top1, top1 = p[c],
 * prediction = c) else if p[c] > top2 then top2 = p[c] (both start at
 * -Infinity; an exact tie goes to the lower class, as in `argmax`).
 * `slog(x)` = Math.log(Math.max(x, 0) + 1e-6): the noise can lift top1 a
 * hair above 1, and the guard keeps every log finite.
 */

/** Added inside every log, so that log(0) cannot occur. */
export const LOG_EPS = 1e-6;

export function slog(x: number): number {
  return Math.log(Math.max(x, 0) + LOG_EPS);
}

/** What one exit's noised probabilities give the features. */
export interface ExitStats {
  top1: number;
  top2: number;
  prediction: number;
  /** sum over c ascending of p[c] * log(p[c]), for p[c] > 0 (<= 0). */
  negEntropy: number;
}

/**
 * Running values over the exits before this one; `emptyHistory()` before
 * exit 0. Updated by `advanceHistory` after each exit, in order.
 */
export interface LearnedHistory {
  /** Exits seen (= the 0-based index of the exit about to be scored). */
  seen: number;
  /** Prediction at the previous exit (-1 before exit 0). */
  prediction: number;
  /** Consecutive exits, ending at the previous one, that predicted `prediction` (0 before exit 0). */
  streak: number;
  /** Margin (top1 - top2) at the previous exit (0 before exit 0). */
  margin: number;
  /** Largest margin over the exits before (0 before exit 0). */
  maxMargin: number;
  /** Sum of the margins over the exits before, added in exit order (0 before exit 0). */
  sumMargin: number;
}

export function emptyHistory(): LearnedHistory {
  return { seen: 0, prediction: -1, streak: 0, margin: 0, maxMargin: 0, sumMargin: 0 };
}

/** Top-1, top-2, prediction and negated entropy of noised probabilities (the scan in the header). */
export function exitStats(p: ArrayLike<number>): ExitStats {
  let top1 = -Infinity;
  let top2 = -Infinity;
  let prediction = 0;
  let negEntropy = 0;
  for (let c = 0; c < p.length; c++) {
    const v = p[c] as number;
    if (v > top1) {
      top2 = top1;
      top1 = v;
      prediction = c;
    } else if (v > top2) {
      top2 = v;
    }
    if (v > 0) negEntropy += v * Math.log(v);
  }
  return { top1, top2, prediction, negEntropy };
}

/** The history after an exit with `stats` (agreement and margins as the features read them). */
export function advanceHistory(h: LearnedHistory, stats: ExitStats): void {
  const margin = stats.top1 - stats.top2;
  h.streak = stats.prediction === h.prediction ? h.streak + 1 : 1;
  h.prediction = stats.prediction;
  h.maxMargin = h.seen === 0 ? margin : Math.max(h.maxMargin, margin);
  h.sumMargin += margin;
  h.margin = margin;
  h.seen++;
}

export interface FeatureSpec {
  /** One line, also the definition the graph implements. */
  readonly doc: string;
  /** Whether the margin and the prediction (what `ScoredOutputs` keeps) are enough to compute it. */
  readonly fromMargin: boolean;
  value(s: Readonly<ExitStats>, h: Readonly<LearnedHistory>): number;
}

const agrees = (s: Readonly<ExitStats>, h: Readonly<LearnedHistory>): boolean => h.seen > 0 && s.prediction === h.prediction;

/** Every feature by name; a params file lists the ones it uses, in the order of its weights. */
export const LEARNED_FEATURES = {
  margin: { doc: 'top1 - top2', fromMargin: true, value: (s) => s.top1 - s.top2 },
  logMargin: { doc: 'slog(top1 - top2)', fromMargin: true, value: (s) => slog(s.top1 - s.top2) },
  log1mMargin: { doc: 'slog(1 - (top1 - top2))', fromMargin: true, value: (s) => slog(1 - (s.top1 - s.top2)) },
  logGap: {
    doc: 'slog(top1) - slog(top2): the log-odds of top-1 against top-2',
    fromMargin: false,
    value: (s) => slog(s.top1) - slog(s.top2),
  },
  maxprob: { doc: 'top1', fromMargin: false, value: (s) => s.top1 },
  log1mMaxprob: { doc: 'slog(1 - top1)', fromMargin: false, value: (s) => slog(1 - s.top1) },
  negEntropy: { doc: 'sum over c ascending of p[c] log p[c], for p[c] > 0', fromMargin: false, value: (s) => s.negEntropy },
  agree: {
    doc: "1 if l > 0 and prediction = the previous exit's prediction, else 0",
    fromMargin: true,
    value: (s, h) => (agrees(s, h) ? 1 : 0),
  },
  streak: {
    doc: "consecutive exits ending at l that predict this exit's class (1 to l + 1)",
    fromMargin: true,
    value: (s, h) => (agrees(s, h) ? h.streak + 1 : 1),
  },
  prevMargin: { doc: "the previous exit's margin (0 at l = 0)", fromMargin: true, value: (_s, h) => h.margin },
  maxPrevMargin: { doc: 'the largest margin of exits 0..l-1 (0 at l = 0)', fromMargin: true, value: (_s, h) => h.maxMargin },
  meanPrevMargin: {
    doc: 'the margins of exits 0..l-1 summed in order, divided by l (0 at l = 0)',
    fromMargin: true,
    value: (_s, h) => (h.seen === 0 ? 0 : h.sumMargin / h.seen),
  },
} as const satisfies Record<string, FeatureSpec>;

export type FeatureName = keyof typeof LEARNED_FEATURES;

export const FEATURE_NAMES: readonly FeatureName[] = Object.freeze(Object.keys(LEARNED_FEATURES) as FeatureName[]);

export function isFeatureName(name: unknown): name is FeatureName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(LEARNED_FEATURES, name);
}

/** Writes the named features of one row at one exit into `out` (length = names.length). */
export function featureVector(
  names: readonly FeatureName[],
  s: Readonly<ExitStats>,
  h: Readonly<LearnedHistory>,
  out: Float64Array = new Float64Array(names.length),
): Float64Array {
  for (let j = 0; j < names.length; j++) out[j] = LEARNED_FEATURES[names[j] as FeatureName].value(s, h);
  return out;
}

/** Whether the margin and prediction alone determine every named feature (no top-1 or entropy needed). */
export function marginOnly(names: readonly FeatureName[]): boolean {
  return names.every((n) => LEARNED_FEATURES[n].fromMargin);
}

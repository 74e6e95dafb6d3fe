import { EeroError } from '../errors';
import { rowStream } from './prng';
import { isScoreKind, scorerOf, SCORE_KINDS, type ScoreKind } from './scorers/registry';
import { topTwo, type ExitHistory, type ScorerParams } from './scorers/scorer';

/**
 * Confidence scores of one exit (docs/eero.md "Score of one exit"). Every score is
 * oriented so that larger means surer, which lets every policy use one rule:
 * exit when `score >= threshold`.
 */
export type { ScoreKind };

/** Upper end of the uniform noise added to probabilities to break ties. */
export const TIE_NOISE = 1e-5;

export interface ScoringOptions {
  score: ScoreKind;
  /** Seed of the tie-breaking noise; the same seed gives the same decisions. */
  seed: number;
  /** Softmax temperature applied to the logits (1 = the model's own). */
  temperature: number;
  /** A fitted score's params (the learned score's weights), for a score that needs them. */
  params?: ScorerParams;
}

export const DEFAULT_SCORING: Readonly<ScoringOptions> = Object.freeze({
  score: 'margin',
  seed: 0,
  temperature: 1,
});

export function resolveScoring(partial: Partial<ScoringOptions> = {}): ScoringOptions {
  const s: ScoringOptions = {
    score: partial.score ?? DEFAULT_SCORING.score,
    seed: partial.seed ?? DEFAULT_SCORING.seed,
    temperature: partial.temperature ?? DEFAULT_SCORING.temperature,
    ...(partial.params === undefined ? {} : { params: partial.params }),
  };
  if (!isScoreKind(s.score)) {
    throw new EeroError('BAD_PARAMETER', `unknown score "${String(s.score)}"; use one of ${SCORE_KINDS.join(', ')}`);
  }
  if (scorerOf(s.score).fitted && s.params === undefined) {
    throw new EeroError('BAD_PARAMETER', `the ${s.score} score needs a model's fitted params (its ${s.score}-score file)`);
  }
  if (!Number.isSafeInteger(s.seed) || s.seed < 0) {
    throw new EeroError('BAD_PARAMETER', `seed must be a non-negative integer, got ${s.seed}`);
  }
  if (!(s.temperature > 0) || !Number.isFinite(s.temperature)) {
    throw new EeroError('BAD_PARAMETER', `temperature must be a positive number, got ${s.temperature}`);
  }
  return s;
}

export function sameScoring(a: Readonly<ScoringOptions>, b: Readonly<ScoringOptions>): boolean {
  return a.score === b.score && a.seed === b.seed && a.temperature === b.temperature && a.params === b.params;
}

/**
 * Softmax of `classes` logits starting at `offset`, divided by `temperature`.
 * Subtracting the row maximum first keeps exp() from overflowing; the sums
 * are done in double precision whatever `out` is.
 */
export function softmaxRow<T extends Float64Array | Float32Array = Float64Array>(
  logits: ArrayLike<number>,
  offset: number,
  classes: number,
  temperature = 1,
  out?: T,
): T {
  const dst = (out ?? new Float64Array(classes)) as T;
  let max = -Infinity;
  for (let c = 0; c < classes; c++) max = Math.max(max, logits[offset + c] ?? NaN);
  let sum = 0;
  for (let c = 0; c < classes; c++) {
    const e = Math.exp(((logits[offset + c] ?? NaN) - max) / temperature);
    dst[c] = e;
    sum += e;
  }
  for (let c = 0; c < classes; c++) dst[c] = (dst[c] ?? 0) / sum;
  return dst;
}

/**
 * Adds i.i.d. U(0, TIE_NOISE) to each probability, in place, from the noise
 * stream of (seed, row key, exit). Per-row streams make a row's decision
 * independent of its batch. Not renormalised: the paper adds the noise to the
 * probabilities as they are, and 1e-5 cannot move a score meaningfully.
 */
export function addTieNoise(probs: Float64Array, seed: number, key: number, exit: number): void {
  const next = rowStream(seed, key, exit);
  for (let c = 0; c < probs.length; c++) probs[c] = (probs[c] ?? 0) + TIE_NOISE * next();
}

/** Index of the largest probability (the first one on an exact tie). */
export function argmax(probs: ArrayLike<number>): number {
  let best = 0;
  let bestP = -Infinity;
  for (let c = 0; c < probs.length; c++) {
    const p = probs[c] ?? -Infinity;
    if (p > bestP) {
      bestP = p;
      best = c;
    }
  }
  return best;
}

/** Where a row starts: no exit seen yet. */
export const NO_HISTORY: ExitHistory = Object.freeze({ exit: -1, prediction: -1, streak: 0, margin: 0, maxMargin: 0, sumMargin: 0 });

/** The score of (already noised) probabilities at `exit`; larger = surer for every kind (scorers/registry.ts). */
export function scoreProbs(
  probs: ArrayLike<number>,
  kind: ScoreKind,
  exit = 0,
  history: ExitHistory = NO_HISTORY,
  params: ScorerParams = undefined,
): number {
  return scorerOf(kind).score(probs, exit, history, params);
}

/** Top-1 minus top-2 of noised probabilities: what the row's history keeps of each exit. */
function marginOf(probs: ArrayLike<number>): number {
  const { top1, top2 } = topTwo(probs);
  return top1 - top2;
}

export interface ScoredRow {
  score: number;
  prediction: number;
  /** Top-1 minus top-2 there (the row's history keeps it: scores may read earlier exits' margins). */
  margin: number;
}

/**
 * Score and prediction of one row at one exit, with the tie noise of
 * (scoring.seed, key, exit). `probs` is not modified; `scratch` (length =
 * classes) avoids an allocation per call.
 */
export function scoreRow(
  probs: ArrayLike<number>,
  exit: number,
  key: number,
  scoring: Readonly<ScoringOptions>,
  scratch: Float64Array = new Float64Array(probs.length),
  history: ExitHistory = NO_HISTORY,
): ScoredRow {
  const noisy = scratch.length === probs.length ? scratch : new Float64Array(probs.length);
  for (let c = 0; c < probs.length; c++) noisy[c] = probs[c] ?? NaN;
  addTieNoise(noisy, scoring.seed, key, exit);
  return { score: scoreProbs(noisy, scoring.score, exit, history, scoring.params), prediction: argmax(noisy), margin: marginOf(noisy) };
}

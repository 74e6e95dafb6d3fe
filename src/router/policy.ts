import { EeroError } from '../errors';
import type { ExitOutputs, ScoredOutputs } from './exit-outputs';
import type { ScoringOptions } from './scores';
import { scoreRow, softmaxRow } from './scores';

/**
 * One strategy interface for every exit rule (EERO, its baselines), so that
 * the engine, the benchmarks and one conformance suite treat them alike.
 */
export type PolicyKind =
  'eero' | 'global-threshold' | 'geometric' | 'patience' | 'fixed-exit' | 'accuracy-target' | 'certified' | 'learned';

/**
 * What a policy remembers about one image between its exits. `key` selects
 * the image's tie-noise stream: use the row index for a data set, any stable
 * integer (e.g. a request sequence number) online.
 */
export interface RowState {
  readonly key: number;
  /** Last exit decided (0-based), -1 before the first. */
  exit: number;
  /** Score and tie-broken prediction at that exit. */
  score: number;
  prediction: number;
  /** How many consecutive exits, ending at `exit`, predicted `prediction`. */
  streak: number;
  /** The margin at `exit`, and the largest and the sum of the margins so far (a score may read them: scorers/scorer.ts). */
  margin: number;
  maxMargin: number;
  sumMargin: number;
}

export function createRowState(key = 0): RowState {
  return { key, exit: -1, score: NaN, prediction: -1, streak: 0, margin: 0, maxMargin: 0, sumMargin: 0 };
}

/** Keep `margin`, the margin at the exit just decided, in the row's history. */
export function advanceMargins(state: RowState, margin: number): void {
  state.maxMargin = state.exit === 0 ? margin : Math.max(state.maxMargin, margin);
  state.sumMargin += margin;
  state.margin = margin;
}

export interface ExitPolicy {
  readonly kind: PolicyKind;
  readonly exits: number;
  readonly scoring: Readonly<ScoringOptions>;
  /** The budget it was calibrated for (cost units); undefined if it has none. */
  readonly budget: number | undefined;
  createRowState(key?: number): RowState;
  /**
   * After exit `exit` (0-based, visited in order) with probabilities `probs`:
   * true = the image leaves here. Always true at the last exit. For results
   * bit-identical to calibration, pass Float64 probabilities from
   * `softmaxRow` with `scoring.temperature`, or use `decideLogits`.
   */
  decide(exit: number, probs: ArrayLike<number>, state: RowState): boolean;
  /** The same from one row of logits (softmax at the policy's temperature). */
  decideLogits(exit: number, logits: ArrayLike<number>, offset: number, classes: number, state: RowState): boolean;
  /** The same from an already computed score and prediction (simulation). */
  decideScored(exit: number, score: number, prediction: number, state: RowState): boolean;
}

export type CalibrationData = ExitOutputs | ScoredOutputs;

/** Options every calibrate factory accepts. */
export interface PolicyOptions extends Partial<ScoringOptions> {
  /** Unit of `costs`, for messages (default MACs). */
  costUnit?: string;
}

/** Every policy's factory has this shape, so benchmarks can sweep them alike. */
export type PolicyFactory<P extends ExitPolicy = ExitPolicy, O extends PolicyOptions = PolicyOptions> = (
  data: CalibrationData,
  costs: ArrayLike<number>,
  budget: number,
  options?: O,
) => P;

/** The rule proper: may this row (its state already updated) leave at `exit`? */
export type ExitRule = (exit: number, state: Readonly<RowState>) => boolean;

/**
 * Builds the shared machinery around a rule: exit order checks, the streak
 * bookkeeping patience needs, the forced last exit, scoring of raw outputs.
 */
export function makePolicy<E extends object>(
  kind: PolicyKind,
  exits: number,
  scoring: Readonly<ScoringOptions>,
  budget: number | undefined,
  rule: ExitRule,
  extra: E,
): ExitPolicy & E {
  let scratch = new Float64Array(0);
  let probs = new Float64Array(0);
  const decideScored = (exit: number, score: number, prediction: number, state: RowState): boolean => {
    if (exit !== state.exit + 1 || exit >= exits) {
      throw new EeroError('INTERNAL', `${kind}: exit ${exit} decided after exit ${state.exit} of ${exits}; exits must be visited in order`);
    }
    state.streak = prediction === state.prediction ? state.streak + 1 : 1;
    state.exit = exit;
    state.score = score;
    state.prediction = prediction;
    return exit === exits - 1 || rule(exit, state);
  };
  const decide = (exit: number, p: ArrayLike<number>, state: RowState): boolean => {
    if (scratch.length !== p.length) scratch = new Float64Array(p.length);
    // The state still holds the previous exit: the history a score may read.
    const r = scoreRow(p, exit, state.key, scoring, scratch, state);
    const leaves = decideScored(exit, r.score, r.prediction, state);
    advanceMargins(state, r.margin);
    return leaves;
  };
  const decideLogits = (exit: number, logits: ArrayLike<number>, offset: number, classes: number, state: RowState): boolean => {
    if (probs.length !== classes) probs = new Float64Array(classes);
    return decide(exit, softmaxRow(logits, offset, classes, scoring.temperature, probs), state);
  };
  const base: ExitPolicy = {
    kind,
    exits,
    scoring: Object.freeze({ ...scoring }),
    budget,
    createRowState,
    decide,
    decideLogits,
    decideScored,
  };
  return Object.freeze(Object.assign(base, extra));
}

/** A policy that exits when `score >= thresholds[exit]`. */
export interface ThresholdPolicy extends ExitPolicy {
  readonly thresholds: Float64Array;
}

export function makeThresholdPolicy<E extends object>(
  kind: PolicyKind,
  thresholds: Float64Array,
  scoring: Readonly<ScoringOptions>,
  budget: number | undefined,
  extra: E,
): ThresholdPolicy & E {
  const rule: ExitRule = (exit, state) => state.score >= (thresholds[exit] as number);
  return makePolicy(kind, thresholds.length, scoring, budget, rule, { thresholds, ...extra });
}

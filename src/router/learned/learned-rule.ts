import { EeroError } from '../../errors';
import type { ExitPolicy, RowState } from '../policy';
import { addTieNoise, softmaxRow, type ScoringOptions } from '../scores';
import { advanceHistory, emptyHistory, exitStats, featureVector, marginOnly, type ExitStats, type LearnedHistory } from './features';
import { learnedScore, type LearnedParams } from './params';

/**
 * The per-row decision of the learned score: the row's state carries the
 * running history the features read, and the row leaves at exit l when its
 * learned score there is >= thresholds[l] (the last exit always takes it).
 */
export interface LearnedRowState extends RowState {
  readonly history: LearnedHistory;
}

export interface LearnedRule extends ExitPolicy {
  readonly params: LearnedParams;
  /** On the learned score; -Infinity at the last exit (and from a cap on). */
  readonly thresholds: Float64Array;
  createRowState(key?: number): LearnedRowState;
}

function historyOf(state: RowState): LearnedHistory {
  const h = (state as Partial<LearnedRowState>).history;
  if (h === undefined) throw new EeroError('INTERNAL', 'learned policy: row state was not made by this policy (createRowState)');
  return h;
}

/**
 * `decide`/`decideLogits` read the probabilities (every feature);
 * `decideScored` reads the margin and prediction of margin-scored outputs,
 * which is enough only when every feature is margin-only (features.ts).
 */
export function makeLearnedRule<E extends object>(
  params: LearnedParams,
  thresholds: Float64Array,
  scoring: Readonly<ScoringOptions>,
  budget: number | undefined,
  extra: E,
): LearnedRule & E {
  const exits = params.exits;
  const features = params.features;
  const x = new Float64Array(features.length);
  let noisy = new Float64Array(0);
  let probs = new Float64Array(0);
  const step = (exit: number, s: ExitStats, state: RowState): boolean => {
    if (exit !== state.exit + 1 || exit >= exits) {
      throw new EeroError('INTERNAL', `learned: exit ${exit} decided after exit ${state.exit} of ${exits}; exits must be visited in order`);
    }
    const h = historyOf(state);
    const z = exit < exits - 1 ? learnedScore(params, exit, featureVector(features, s, h, x)) : Infinity;
    advanceHistory(h, s);
    state.streak = h.streak;
    state.exit = exit;
    state.score = z;
    state.prediction = s.prediction;
    return exit === exits - 1 || z >= (thresholds[exit] as number);
  };
  const decide = (exit: number, p: ArrayLike<number>, state: RowState): boolean => {
    if (noisy.length !== p.length) noisy = new Float64Array(p.length);
    for (let c = 0; c < p.length; c++) noisy[c] = p[c] as number;
    addTieNoise(noisy, scoring.seed, state.key, exit);
    return step(exit, exitStats(noisy), state);
  };
  const fromMargin = marginOnly(features);
  const base: LearnedRule = {
    kind: 'global-threshold',
    exits,
    scoring: Object.freeze({ ...scoring }),
    budget,
    params,
    thresholds,
    createRowState: (key = 0) => ({ key, exit: -1, score: NaN, prediction: -1, streak: 0, history: emptyHistory() }),
    decide,
    decideLogits(exit, logits, offset, classes, state) {
      if (probs.length !== classes) probs = new Float64Array(classes);
      return decide(exit, softmaxRow(logits, offset, classes, scoring.temperature, probs), state);
    },
    decideScored(exit, score, prediction, state) {
      if (!fromMargin) {
        throw new EeroError(
          'BAD_PARAMETER',
          `learned features ${features.join(', ')} need the probabilities: use decide()/decideLogits() or evaluateLearned()`,
        );
      }
      return step(exit, { top1: score, top2: 0, prediction, negEntropy: NaN }, state);
    },
  };
  return Object.freeze(Object.assign(base, extra));
}

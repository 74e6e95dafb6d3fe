import { EeroError } from '../../errors';
import { exitStats, featureVector } from '../learned/features';
import { learnedScore, type LearnedParams } from '../learned/params';
import type { Scorer } from './scorer';

/**
 * The learned, label-free score (docs/eero.md "The learned score"): a small
 * model per exit of "this exit's prediction will equal the final exit's",
 * over features of the exit and of the exits before it, fitted on the
 * calibration outputs without labels. Its value is the model's log-odds;
 * the last exit always takes the rest (+Infinity).
 */
export const learnedScorer = {
  name: 'learned',
  description:
    "a per-exit model of agreement with the final exit over the exit's history, fitted without labels (the bundle's learned-score file)",
  // Where the bundle's early-exit graph was composed with a logistic learned-score file (earlyExit.scores).
  graphCode: 3,
  fitted: true,
  score(probs, exit, history, params) {
    const p = params as LearnedParams | undefined;
    if (p === undefined)
      throw new EeroError('BAD_PARAMETER', 'the learned score needs the fitted params of the model (its learned-score file)');
    if (exit >= p.exits - 1) return Infinity;
    const h = {
      seen: history.exit + 1,
      prediction: history.prediction,
      streak: history.streak,
      margin: history.margin,
      maxMargin: history.maxMargin,
      sumMargin: history.sumMargin,
    };
    return learnedScore(p, exit, featureVector(p.features, exitStats(probs), h));
  },
} as const satisfies Scorer;

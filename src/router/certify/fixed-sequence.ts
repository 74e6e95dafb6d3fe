import { binomialCdf } from '../binomial-tail';
import type { ScoredOutputs } from '../exit-outputs';
import type { Flavour } from './guarantee';
import { lossesOf, type Losses } from './losses';
import type { PathPoint } from './path';

export interface TestedPoint {
  budget: number;
  losses: number;
  pValue: number;
}

export interface SequenceResult {
  /** Index in the path of the last vector certified; -1 if the first failed. */
  last: number;
  trace: TestedPoint[];
  lastLosses: Losses | undefined;
}

/**
 * Fixed-sequence testing: H_j "loss rate of path[j] > alpha" in path order,
 * each at level delta, stopping at the first p-value above delta. Every
 * rejection is then right with probability >= 1 - delta jointly, with no
 * multiplicity correction, because the order was fixed before testing.
 */
export function fixedSequenceTest(
  path: readonly PathPoint[],
  scored: ScoredOutputs,
  costs: Float64Array,
  rows: Int32Array,
  flavour: Flavour,
  alpha: number,
  delta: number,
): SequenceResult {
  const trace: TestedPoint[] = [];
  let last = -1;
  let lastLosses: Losses | undefined;
  for (let j = 0; j < path.length; j++) {
    const point = path[j] as PathPoint;
    const l = lossesOf(scored, point.thresholds, costs, rows, flavour);
    const pValue = binomialCdf(l.losses, rows.length, alpha);
    trace.push({ budget: point.budget, losses: l.losses, pValue });
    if (pValue > delta) break;
    last = j;
    lastLosses = l;
  }
  return { last, trace, lastLosses };
}

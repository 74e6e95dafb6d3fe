/**
 * Which batches the one early-exit graph can route, and the learned score's weights as the graph
 * takes them (models/FORMAT.md, early-exit.onnx).
 */
import type { EarlyExitGraphSpec } from '../engine';
import { scorerOf, type ExitPolicy, type LearnedParams, type ThresholdPolicy } from '../router';
import type { RowMeta } from './row-meta';

const isThresholdPolicy = (p: ExitPolicy): p is ThresholdPolicy => 'thresholds' in p && p.thresholds instanceof Float64Array;

/**
 * Whether the graph can route this batch: threshold rules only, one score that this bundle's graph
 * computes (the learned one only with the features the graph was composed with, from one params
 * object: its weights are one input per call), one temperature and seed for all rows.
 */
export function graphCanRoute(metas: readonly RowMeta[], spec: Pick<EarlyExitGraphSpec, 'scores' | 'learnedFeatures'>): boolean {
  const first = metas[0]?.choice.policy.scoring;
  if (first === undefined) return false;
  const code = scorerOf(first.score).graphCode;
  if (code === undefined || spec.scores[first.score] !== code) return false;
  if (first.score === 'learned' && learnedGraphWeights(first.params, spec.learnedFeatures) === undefined) return false;
  return metas.every((m) => {
    const s = m.choice.policy.scoring;
    return (
      isThresholdPolicy(m.choice.policy) &&
      s.score === first.score &&
      s.temperature === first.temperature &&
      s.seed === first.seed &&
      s.params === first.params
    );
  });
}

const WEIGHTS = new WeakMap<object, Float64Array>();

/**
 * The graph's `learned_weights` input from a learned score's params: per exit but the last, its bias
 * then its weights ((M - 1) x (1 + F), exit-major). Undefined when the graph cannot compute these
 * params: an MLP, or other features than the graph's.
 */
export function learnedGraphWeights(params: unknown, features: readonly string[] | undefined): Float64Array | undefined {
  const p = params as LearnedParams | undefined;
  if (p?.kind !== 'logistic' || features === undefined) return undefined;
  if (p.features.length !== features.length || p.features.some((f, j) => f !== features[j])) return undefined;
  let weights = WEIGHTS.get(p);
  if (weights === undefined) {
    const width = 1 + features.length;
    weights = new Float64Array(p.perExit.length * width);
    for (const [l, e] of p.perExit.entries()) {
      weights[l * width] = e.bias;
      weights.set(e.weights, l * width + 1);
    }
    WEIGHTS.set(p, weights);
  }
  return weights;
}

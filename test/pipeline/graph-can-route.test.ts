/** Which batches the one graph may route: a score this bundle's graph computes, the learned one only with the graph's features. */
import type { EarlyExitGraphSpec } from '../../src/engine';
import { graphCanRoute, learnedGraphWeights } from '../../src/pipeline/graph-can-route';
import type { RowMeta } from '../../src/pipeline/row-meta';
import { makeThresholdPolicy, type LearnedParams, type ScoringOptions } from '../../src/router';

const FEATURES = ['margin', 'agree', 'streak'] as const;
const OLD_GRAPH: Pick<EarlyExitGraphSpec, 'scores' | 'learnedFeatures'> = {
  scores: { margin: 0, maxprob: 1, entropy: 2 },
  learnedFeatures: undefined,
};
const LEARNED_GRAPH: Pick<EarlyExitGraphSpec, 'scores' | 'learnedFeatures'> = {
  scores: { margin: 0, maxprob: 1, entropy: 2, learned: 3 },
  learnedFeatures: FEATURES,
};

function logistic(features: readonly string[] = FEATURES): LearnedParams {
  return {
    version: 1,
    kind: 'logistic',
    exits: 3,
    classes: 4,
    features: [...features] as LearnedParams['features'],
    perExit: [
      { bias: 0.5, weights: features.map((_, j) => j + 1) },
      { bias: -1.5, weights: features.map((_, j) => -j - 1) },
    ],
  };
}

function meta(scoring: ScoringOptions): RowMeta {
  const policy = makeThresholdPolicy('learned', Float64Array.of(0.1, 0.2, -Infinity), scoring, 1, {});
  return {
    choice: { policy, rule: 'eero', budget: 1, fraction: 0.5, deadlineMs: undefined, allowUncertified: false, version: 1 },
    key: 0,
    topk: 1,
    trace: false,
    arrivedAt: 0,
  };
}

const scoring = (score: ScoringOptions['score'], params?: LearnedParams): ScoringOptions => ({
  score,
  seed: 0,
  temperature: 1,
  ...(params ? { params } : {}),
});

describe('graphCanRoute', () => {
  it('routes the fixed scores on any graph, and the learned one only on a graph composed with it', () => {
    const params = logistic();
    expect(graphCanRoute([meta(scoring('margin'))], OLD_GRAPH)).toBe(true);
    expect(graphCanRoute([meta(scoring('learned', params))], OLD_GRAPH)).toBe(false);
    expect(graphCanRoute([meta(scoring('learned', params)), meta(scoring('learned', params))], LEARNED_GRAPH)).toBe(true);
  });

  it('refuses learned params the graph cannot compute: other features, another order, an MLP', () => {
    expect(graphCanRoute([meta(scoring('learned', logistic(['margin', 'agree'])))], LEARNED_GRAPH)).toBe(false);
    expect(graphCanRoute([meta(scoring('learned', logistic(['agree', 'margin', 'streak'])))], LEARNED_GRAPH)).toBe(false);
    const mlp = { ...logistic(), kind: 'mlp', hidden: 1 } as unknown as LearnedParams;
    expect(graphCanRoute([meta(scoring('learned', mlp))], LEARNED_GRAPH)).toBe(false);
  });

  it('refuses a batch whose rows bring two sets of weights (one input per call)', () => {
    expect(graphCanRoute([meta(scoring('learned', logistic())), meta(scoring('learned', logistic()))], LEARNED_GRAPH)).toBe(false);
  });
});

describe('learnedGraphWeights', () => {
  it("lays out each exit's bias then its weights, exit after exit, as the graph's learned_weights input", () => {
    expect(Array.from(learnedGraphWeights(logistic(), FEATURES) as Float64Array)).toEqual([0.5, 1, 2, 3, -1.5, -1, -2, -3]);
    expect(learnedGraphWeights(logistic(), undefined)).toBeUndefined();
  });
});

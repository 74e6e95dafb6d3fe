import type { EeroError } from '../../../src/errors';
import { learnedScore, validateLearnedParams, type LearnedParams } from '../../../src/router';

function logistic(): LearnedParams {
  return {
    version: 1,
    kind: 'logistic',
    exits: 3,
    classes: 10,
    features: ['margin', 'agree'],
    perExit: [
      { bias: -1, weights: [4, 0.5] },
      { bias: -0.5, weights: [3, 1] },
    ],
  };
}

function errorOf(params: unknown, exits = 3, classes = 10): EeroError {
  try {
    validateLearnedParams(params, exits, classes);
  } catch (e) {
    return e as EeroError;
  }
  throw new Error('expected validateLearnedParams to throw');
}

/** A deep copy of valid params with one change. */
function edited(edit: (p: Record<string, unknown>) => void): unknown {
  const p = JSON.parse(JSON.stringify(logistic())) as Record<string, unknown>;
  edit(p);
  return p;
}

describe('validateLearnedParams', () => {
  it('accepts params that match the bundle, also after a JSON round trip', () => {
    expect(validateLearnedParams(JSON.parse(JSON.stringify(logistic())), 3, 10)).toEqual(logistic());
  });

  it.each([
    ['exits', () => errorOf(logistic(), 4), 'the bundle has 4 exits'],
    ['classes', () => errorOf(logistic(), 3, 7), 'the bundle has 7 classes'],
    ['version', () => errorOf(edited((p) => (p.version = 2))), 'must be 1, got 2'],
    ['features', () => errorOf(edited((p) => (p.features = []))), 'non-empty'],
    ['features[1]', () => errorOf(edited((p) => (p.features = ['margin', 'colour']))), 'unknown feature "colour"'],
    ['features', () => errorOf(edited((p) => (p.features = ['margin', 'margin']))), 'twice'],
  ])('refuses a bundle mismatch in %s with CONFIG_INVALID naming the field', (field, make, text) => {
    const e = make();
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.details?.field).toBe(field);
    expect(e.message).toContain(`learned score: ${field}: `);
    expect(e.message).toContain(text);
  });

  it.each([
    ['(root)', () => errorOf(null)],
    ['kind', () => errorOf(edited((p) => (p.kind = 'forest')))],
    ['perExit', () => errorOf(edited((p) => (p.perExit = [])))],
    ['perExit[1].weights', () => errorOf(edited((p) => ((p.perExit as Record<string, unknown>[])[1] = { bias: 0, weights: [1] })))],
    ['perExit[0].bias', () => errorOf(edited((p) => ((p.perExit as Record<string, unknown>[])[0] = { bias: 'x', weights: [1, 2] })))],
    [
      'perExit[0].weights[1]',
      () => errorOf(edited((p) => ((p.perExit as Record<string, unknown>[])[0] = { bias: 0, weights: [1, null] }))),
    ],
    ['hidden', () => errorOf(edited((p) => (p.kind = 'mlp')))],
  ])('refuses a malformed %s with MODEL_INVALID naming the field', (field, make) => {
    const e = make();
    expect(e.code).toBe('MODEL_INVALID');
    expect(e.details?.field).toBe(field);
    expect(e.message).toContain(field);
  });

  it("checks an MLP exit model's array sizes against hidden and the features", () => {
    const mlp = {
      ...logistic(),
      kind: 'mlp',
      hidden: 2,
      perExit: [0, 1].map(() => ({
        mean: [0, 0],
        scale: [1, 1],
        hiddenWeights: [1, 0, 0, 1],
        hiddenBias: [0, 0],
        outWeights: [1, -1],
        outBias: 0,
      })),
    };
    expect(() => validateLearnedParams(mlp, 3, 10)).not.toThrow();
    (mlp.perExit[1] as { hiddenWeights: number[] }).hiddenWeights = [1, 0, 0];
    expect(errorOf(mlp).details?.field).toBe('perExit[1].hiddenWeights');
  });
});

describe('learnedScore', () => {
  it('is the bias plus the weighted features (logistic) at the named exit', () => {
    expect(learnedScore(logistic(), 0, [0.5, 1])).toBe(-1 + 4 * 0.5 + 0.5 * 1);
    expect(learnedScore(logistic(), 1, [0.5, 1])).toBe(-0.5 + 3 * 0.5 + 1);
  });

  it('runs the MLP formula: tanh hidden units on standardised features', () => {
    const p: LearnedParams = {
      version: 1,
      kind: 'mlp',
      exits: 2,
      classes: 10,
      features: ['margin', 'agree'],
      hidden: 2,
      perExit: [
        { mean: [0.5, 0], scale: [2, 1], hiddenWeights: [1, 2, -1, 0.5], hiddenBias: [0.1, -0.2], outWeights: [1.5, -2], outBias: 0.3 },
      ],
    };
    const [a, b] = [(0.9 - 0.5) * 2, (1 - 0) * 1];
    const expected = 0.3 + 1.5 * Math.tanh(0.1 + 1 * a + 2 * b) - 2 * Math.tanh(-0.2 - 1 * a + 0.5 * b);
    expect(learnedScore(p, 0, [0.9, 1])).toBeCloseTo(expected, 14);
  });
});

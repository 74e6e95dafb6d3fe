import { fitLogistic, fitMlp, learnedScore, mulberry32, type LearnedParams, type MlpExit } from '../../../src/router';
import { sigmoid, softplus } from '../../../src/router/learned/standardize';

/** n rows of d standard-normal features and y ~ Bernoulli(sigmoid(bias + w.x)), seeded. */
function synthetic(n: number, bias: number, w: number[], seed: number): { x: Float64Array; y: Uint8Array } {
  const rand = mulberry32(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const d = w.length;
  const x = new Float64Array(n * d);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let z = bias;
    for (let j = 0; j < d; j++) {
      // Features on different scales and offsets: the fit standardises, the weights come back in these units.
      const v = gauss() * (j + 1) + j;
      x[i * d + j] = v;
      z += (w[j] as number) * v;
    }
    y[i] = rand() < sigmoid(z) ? 1 : 0;
  }
  return { x, y };
}

function meanLoss(score: (row: Float64Array) => number, x: Float64Array, y: Uint8Array, d: number): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const z = score(x.subarray(i * d, (i + 1) * d));
    s += softplus(z) - (y[i] as number) * z;
  }
  return s / y.length;
}

describe('logistic fit (IRLS)', () => {
  it('recovers a known logistic model from 20,000 synthetic rows', () => {
    const truth = { bias: -0.5, w: [1.2, -0.7, 0.25] };
    const { x, y } = synthetic(20000, truth.bias, truth.w, 11);
    const m = fitLogistic(x, y, 20000, 3, { lambda: 1e-6 });
    m.weights.forEach((w, j) => expect(Math.abs(w - (truth.w[j] as number))).toBeLessThan(0.07));
    expect(Math.abs(m.bias - truth.bias)).toBeLessThan(0.1);
  });

  it('is deterministic: the same rows give bit-identical weights', () => {
    const { x, y } = synthetic(3000, 0.3, [0.8, -0.4], 5);
    expect(fitLogistic(x, y, 3000, 2)).toEqual(fitLogistic(x, y, 3000, 2));
  });

  it('gives a constant feature weight 0 and stays finite when every target is 1', () => {
    const n = 500;
    const x = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) [x[2 * i], x[2 * i + 1]] = [i / n, 3];
    const m = fitLogistic(x, new Uint8Array(n).fill(1), n, 2);
    expect(m.weights[1]).toBe(0);
    expect(Number.isFinite(m.bias) && m.bias > 5).toBe(true);
  });

  it('shrinks the weights as the penalty grows', () => {
    const { x, y } = synthetic(2000, 0, [1, -1], 9);
    const norm = (l: number): number => Math.hypot(...fitLogistic(x, y, 2000, 2, { lambda: l }).weights);
    expect(norm(1e4)).toBeLessThan(norm(1));
  });
});

describe('tiny MLP fit (L-BFGS)', () => {
  // y = 1 inside a band |x0| < 0.7: no linear model in x0 separates it.
  const n = 1500;
  const rand = mulberry32(3);
  const x = new Float64Array(n);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = 4 * rand() - 2;
    y[i] = Math.abs(x[i] as number) < 0.7 ? 1 : 0;
  }
  const params = (m: MlpExit): LearnedParams => ({
    version: 1,
    kind: 'mlp',
    exits: 2,
    classes: 2,
    features: ['margin'],
    hidden: m.outWeights.length,
    perExit: [m],
  });

  it('fits what a logistic model cannot, and its score is learnedScore', () => {
    const mlp = fitMlp(x, y, n, 1, { hidden: 4, seed: 1 });
    const lin = fitLogistic(x, y, n, 1);
    const mlpLoss = meanLoss((r) => learnedScore(params(mlp), 0, r), x, y, 1);
    const linLoss = meanLoss((r) => lin.bias + (lin.weights[0] as number) * (r[0] as number), x, y, 1);
    expect(mlpLoss).toBeLessThan(0.5 * linLoss);
  });

  it('is deterministic for a seed', () => {
    expect(fitMlp(x, y, n, 1, { hidden: 3, seed: 7, iterations: 30 })).toEqual(fitMlp(x, y, n, 1, { hidden: 3, seed: 7, iterations: 30 }));
  });
});

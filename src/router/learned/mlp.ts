import { mulberry32 } from '../prng';
import { minimiseLbfgs } from './lbfgs';
import type { MlpExit } from './params';
import { sigmoid, softplus, standardization, standardize } from './standardize';

/**
 * A tiny MLP (one tanh hidden layer) for one exit: the alternative to the
 * logistic model, fitted by L-BFGS on the mean logistic loss plus
 * lambda/2 |weights|^2 (the output bias is not penalised). The starting
 * weights come from mulberry32(seed): the same seed, the same fit.
 */
export interface MlpOptions {
  hidden?: number;
  lambda?: number;
  seed?: number;
  iterations?: number;
}

interface Layout {
  d: number;
  h: number;
  /** Offsets in the flat parameter vector: hidden weights (h x d), hidden bias, output weights, output bias. */
  b1: number;
  w2: number;
  b2: number;
}

function layout(d: number, h: number): Layout {
  return { d, h, b1: h * d, w2: h * d + h, b2: h * d + 2 * h };
}

/** Mean loss and its gradient over standardised rows xs. */
function objective(xs: Float64Array, y: ArrayLike<number>, n: number, L: Layout, lambda: number) {
  const act = new Float64Array(L.h);
  return (w: Float64Array, grad: Float64Array): number => {
    grad.fill(0);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      let z = w[L.b2] as number;
      for (let k = 0; k < L.h; k++) {
        let a = w[L.b1 + k] as number;
        for (let j = 0; j < L.d; j++) a += (w[k * L.d + j] as number) * (xs[i * L.d + j] as number);
        act[k] = Math.tanh(a);
        z += (w[L.w2 + k] as number) * (act[k] as number);
      }
      const yi = y[i] as number;
      loss += softplus(z) - yi * z;
      const r = sigmoid(z) - yi;
      grad[L.b2] = (grad[L.b2] as number) + r;
      for (let k = 0; k < L.h; k++) {
        const ak = act[k] as number;
        grad[L.w2 + k] = (grad[L.w2 + k] as number) + r * ak;
        const back = r * (w[L.w2 + k] as number) * (1 - ak * ak);
        grad[L.b1 + k] = (grad[L.b1 + k] as number) + back;
        for (let j = 0; j < L.d; j++) grad[k * L.d + j] = (grad[k * L.d + j] as number) + back * (xs[i * L.d + j] as number);
      }
    }
    loss /= n;
    for (let p = 0; p < w.length; p++) {
      grad[p] = (grad[p] as number) / n;
      if (p === L.b2) continue;
      loss += 0.5 * lambda * (w[p] as number) ** 2;
      grad[p] = (grad[p] as number) + lambda * (w[p] as number);
    }
    return loss;
  };
}

export function fitMlp(x: Float64Array, y: ArrayLike<number>, n: number, d: number, options: MlpOptions = {}): MlpExit {
  const h = options.hidden ?? 8;
  const st = standardization(x, n, d);
  const xs = standardize(x, n, d, st);
  const L = layout(d, h);
  const rand = mulberry32(options.seed ?? 1);
  const start = new Float64Array(L.b2 + 1);
  for (let p = 0; p < h * d; p++) start[p] = (2 * rand() - 1) / Math.sqrt(d);
  for (let k = 0; k < h; k++) start[L.w2 + k] = (2 * rand() - 1) / Math.sqrt(h);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i] as number;
  mean /= n;
  start[L.b2] = Math.log((mean * n + 0.5) / ((1 - mean) * n + 0.5));
  const w = minimiseLbfgs(objective(xs, y, n, L, options.lambda ?? 1e-3), start, { iterations: options.iterations ?? 200 });
  return {
    mean: Array.from(st.mean),
    scale: Array.from(st.scale),
    hiddenWeights: Array.from(w.subarray(0, h * d)),
    hiddenBias: Array.from(w.subarray(L.b1, L.b1 + h)),
    outWeights: Array.from(w.subarray(L.w2, L.w2 + h)),
    outBias: w[L.b2] as number,
  };
}

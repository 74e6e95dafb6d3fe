import { EeroError } from '../../errors';
import type { LogisticExit } from './params';
import { sigmoid, softplus, standardization, standardize } from './standardize';

/**
 * L2-penalised logistic regression by Newton's method (IRLS), in float64:
 * minimises sum_i [log(1 + e^z_i) - y_i z_i] + lambda/2 |w|^2 over
 * standardised features (the intercept is not penalised, beyond a 1e-8
 * ridge that keeps it finite when every y is equal). Deterministic: no
 * random start, a fixed iteration order. The weights come back in the
 * features' own units, so scoring needs no standardisation.
 */
export interface LogisticOptions {
  /** L2 penalty in standardised units (default 1: light against thousands of rows). */
  lambda?: number;
  maxIterations?: number;
}

const INTERCEPT_RIDGE = 1e-8;

/** Solves A s = b in place for a symmetric positive definite A (Cholesky); returns s. */
function choleskySolve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j] as number;
    for (let k = 0; k < j; k++) d -= (a[j * n + k] as number) ** 2;
    if (!(d > 0)) throw new EeroError('INTERNAL', 'logistic fit: Hessian is not positive definite');
    const r = Math.sqrt(d);
    a[j * n + j] = r;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j] as number;
      for (let k = 0; k < j; k++) s -= (a[i * n + k] as number) * (a[j * n + k] as number);
      a[i * n + j] = s / r;
    }
  }
  const s = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    let v = s[i] as number;
    for (let k = 0; k < i; k++) v -= (a[i * n + k] as number) * (s[k] as number);
    s[i] = v / (a[i * n + i] as number);
  }
  for (let i = n - 1; i >= 0; i--) {
    let v = s[i] as number;
    for (let k = i + 1; k < n; k++) v -= (a[k * n + i] as number) * (s[k] as number);
    s[i] = v / (a[i * n + i] as number);
  }
  return s;
}

/** Penalised loss, gradient and Hessian at w (w[0] = intercept) over design z (n x m, column 0 = 1). */
function newtonTerms(z: Float64Array, y: ArrayLike<number>, w: Float64Array, n: number, m: number, lambda: number) {
  const g = new Float64Array(m);
  const h = new Float64Array(m * m);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let eta = 0;
    for (let j = 0; j < m; j++) eta += (w[j] as number) * (z[i * m + j] as number);
    const yi = y[i] as number;
    loss += softplus(eta) - yi * eta;
    const p = sigmoid(eta);
    const r = p - yi;
    const v = p * (1 - p);
    for (let a = 0; a < m; a++) {
      const za = z[i * m + a] as number;
      g[a] = (g[a] as number) + r * za;
      for (let b = 0; b <= a; b++) h[a * m + b] = (h[a * m + b] as number) + v * za * (z[i * m + b] as number);
    }
  }
  for (let a = 0; a < m; a++) {
    const pen = a === 0 ? INTERCEPT_RIDGE : lambda;
    loss += 0.5 * pen * (w[a] as number) ** 2;
    g[a] = (g[a] as number) + pen * (w[a] as number);
    h[a * m + a] = (h[a * m + a] as number) + pen;
    for (let b = 0; b < a; b++) h[b * m + a] = h[a * m + b] as number;
  }
  return { loss, g, h };
}

function penalisedLoss(z: Float64Array, y: ArrayLike<number>, w: Float64Array, n: number, m: number, lambda: number): number {
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let eta = 0;
    for (let j = 0; j < m; j++) eta += (w[j] as number) * (z[i * m + j] as number);
    loss += softplus(eta) - (y[i] as number) * eta;
  }
  for (let a = 0; a < m; a++) loss += 0.5 * (a === 0 ? INTERCEPT_RIDGE : lambda) * (w[a] as number) ** 2;
  return loss;
}

/** Fits y (0/1, length n) on x (n x d, row-major). */
export function fitLogistic(x: Float64Array, y: ArrayLike<number>, n: number, d: number, options: LogisticOptions = {}): LogisticExit {
  const lambda = options.lambda ?? 1;
  if (!(lambda > 0)) throw new EeroError('BAD_PARAMETER', `lambda must be positive, got ${lambda}`);
  const st = standardization(x, n, d);
  const active = [...st.scale.keys()].filter((j) => (st.scale[j] as number) > 0);
  const m = active.length + 1;
  const xs = standardize(x, n, d, st);
  const z = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    z[i * m] = 1;
    active.forEach((j, a) => (z[i * m + a + 1] = xs[i * d + j] as number));
  }
  const w = new Float64Array(m);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i] as number;
  mean /= n;
  w[0] = Math.log((mean * n + 0.5) / ((1 - mean) * n + 0.5));
  for (let it = 0; it < (options.maxIterations ?? 100); it++) {
    const { loss, g, h } = newtonTerms(z, y, w, n, m, lambda);
    const step = choleskySolve(h, g, m);
    // Damped Newton: halve the step until the loss does not grow (it rarely needs to).
    let t = 1;
    const next = new Float64Array(m);
    for (let k = 0; k < 40; k++, t /= 2) {
      for (let j = 0; j < m; j++) next[j] = (w[j] as number) - t * (step[j] as number);
      if (penalisedLoss(z, y, next, n, m, lambda) <= loss) break;
    }
    let moved = 0;
    for (let j = 0; j < m; j++) {
      moved = Math.max(moved, Math.abs((next[j] as number) - (w[j] as number)));
      w[j] = next[j] as number;
    }
    if (moved < 1e-10) break;
  }
  const weights = new Array<number>(d).fill(0);
  let bias = w[0];
  active.forEach((j, a) => {
    const s = st.scale[j] as number;
    weights[j] = (w[a + 1] as number) * s;
    bias -= (w[a + 1] as number) * s * (st.mean[j] as number);
  });
  return { bias, weights };
}

/**
 * Limited-memory BFGS with a backtracking (Armijo) line search: the
 * minimiser of the tiny MLP's loss. Deterministic: plain loops, no
 * randomness; `f` writes the gradient into its second argument.
 */
export type Objective = (w: Float64Array, grad: Float64Array) => number;

export interface LbfgsOptions {
  iterations?: number;
  /** Pairs of past steps kept (default 10). */
  memory?: number;
  /** Stop when the loss falls by less than this, relatively (default 1e-10). */
  tolerance?: number;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += (a[j] as number) * (b[j] as number);
  return s;
}

/** Two-loop recursion: an approximation of H^-1 g. */
function direction(g: Float64Array, s: Float64Array[], y: Float64Array[]): Float64Array {
  const q = Float64Array.from(g);
  const alpha = new Float64Array(s.length);
  for (let k = s.length - 1; k >= 0; k--) {
    const [sk, yk] = [s[k] as Float64Array, y[k] as Float64Array];
    const a = dot(sk, q) / dot(yk, sk);
    alpha[k] = a;
    for (let j = 0; j < q.length; j++) q[j] = (q[j] as number) - a * (yk[j] as number);
  }
  const last = s.length - 1;
  const gamma =
    last >= 0
      ? dot(s[last] as Float64Array, y[last] as Float64Array) / dot(y[last] as Float64Array, y[last] as Float64Array)
      : 1 / Math.max(1, Math.sqrt(dot(g, g)));
  for (let j = 0; j < q.length; j++) q[j] = (q[j] as number) * gamma;
  for (let k = 0; k < s.length; k++) {
    const [sk, yk] = [s[k] as Float64Array, y[k] as Float64Array];
    const b = dot(yk, q) / dot(yk, sk);
    for (let j = 0; j < q.length; j++) q[j] = (q[j] as number) + (sk[j] as number) * ((alpha[k] as number) - b);
  }
  return q;
}

export function minimiseLbfgs(f: Objective, start: Float64Array, options: LbfgsOptions = {}): Float64Array {
  const n = start.length;
  const memory = options.memory ?? 10;
  let w = Float64Array.from(start);
  let g = new Float64Array(n);
  let fw = f(w, g);
  const s: Float64Array[] = [];
  const y: Float64Array[] = [];
  const next = new Float64Array(n);
  const gNext = new Float64Array(n);
  for (let it = 0; it < (options.iterations ?? 200); it++) {
    let q = direction(g, s, y);
    let slope = -dot(q, g);
    if (!(slope < 0)) {
      // Not a descent direction (curvature lost): restart from the gradient.
      s.length = 0;
      y.length = 0;
      q = direction(g, s, y);
      slope = -dot(q, g);
    }
    let step = 1;
    let fNext = Infinity;
    for (let k = 0; k < 40; k++, step /= 2) {
      for (let j = 0; j < n; j++) next[j] = (w[j] as number) - step * (q[j] as number);
      fNext = f(next, gNext);
      if (fNext <= fw + 1e-4 * step * slope) break;
    }
    if (!(fNext < fw)) break;
    const sk = new Float64Array(n);
    const yk = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      sk[j] = (next[j] as number) - (w[j] as number);
      yk[j] = (gNext[j] as number) - (g[j] as number);
    }
    const done = fw - fNext < (options.tolerance ?? 1e-10) * Math.max(1, Math.abs(fw));
    w = Float64Array.from(next);
    g = Float64Array.from(gNext);
    fw = fNext;
    if (dot(sk, yk) > 1e-12) {
      s.push(sk);
      y.push(yk);
      if (s.length > memory) {
        s.shift();
        y.shift();
      }
    }
    if (done) break;
  }
  return w;
}

/**
 * Column means and 1 / standard deviations of a row-major n x d matrix:
 * fitting in standardised units makes one L2 penalty fair to every feature
 * and keeps Newton's steps well conditioned. A column constant on the fit
 * rows (e.g. every history feature at exit 0) gets scale 0: it drops out.
 */
export interface Standardization {
  mean: Float64Array;
  scale: Float64Array;
}

/** Relative spread below which a column counts as constant. */
const CONSTANT = 1e-12;

export function standardization(x: Float64Array, n: number, d: number): Standardization {
  const mean = new Float64Array(d);
  const scale = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i * d + j] as number;
    const m = s / n;
    let v = 0;
    let big = 0;
    for (let i = 0; i < n; i++) {
      const e = (x[i * d + j] as number) - m;
      v += e * e;
      big = Math.max(big, Math.abs(x[i * d + j] as number));
    }
    const sd = Math.sqrt(v / n);
    mean[j] = m;
    scale[j] = sd > CONSTANT * Math.max(1, big) ? 1 / sd : 0;
  }
  return { mean, scale };
}

/** (x - mean) * scale for every row, into a new matrix. */
export function standardize(x: Float64Array, n: number, d: number, st: Standardization): Float64Array {
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) out[i * d + j] = ((x[i * d + j] as number) - (st.mean[j] as number)) * (st.scale[j] as number);
  }
  return out;
}

/** log(1 + e^z) without overflow. */
export function softplus(z: number): number {
  return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

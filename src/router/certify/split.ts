import { EeroError } from '../../errors';
import type { ScoredOutputs } from '../exit-outputs';
import { permutation } from '../prng';

/** A seeded random split of rows 0..n-1: floor(share n) path rows, the rest test rows. */
export function splitRows(n: number, share: number, seed: number): { path: Int32Array; test: Int32Array } {
  if (!(share > 0 && share < 1)) throw new EeroError('BAD_PARAMETER', `pathShare must be in (0, 1), got ${share}`);
  const p = permutation(n, seed);
  const cut = Math.floor(share * n);
  if (cut < 1 || cut >= n) throw new EeroError('BAD_PARAMETER', `${n} calibration images cannot be split ${share} : ${1 - share}`);
  return { path: p.slice(0, cut), test: p.slice(cut) };
}

/** The rows `idx` of scored outputs (row keys stay those of the original set). */
export function selectScoredRows(s: ScoredOutputs, idx: ArrayLike<number>): ScoredOutputs {
  const pick = <T extends Float64Array | Int32Array>(a: T, out: T): T => {
    for (let j = 0; j < idx.length; j++) out[j] = a[idx[j] as number] as number;
    return out;
  };
  return {
    images: idx.length,
    exits: s.exits,
    scoring: s.scoring,
    labels: pick(s.labels, new Int32Array(idx.length)),
    scores: s.scores.map((a) => pick(a, new Float64Array(idx.length))),
    predictions: s.predictions.map((a) => pick(a, new Int32Array(idx.length))),
  };
}

/** Two scored sets as one (calibration and test pooled for re-splits); each row keeps the tie noise it was scored with. */
export function concatScored(a: ScoredOutputs, b: ScoredOutputs): ScoredOutputs {
  const cat = <T extends Float64Array | Int32Array>(x: T, y: T, out: T): T => {
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  const n = a.images + b.images;
  return {
    images: n,
    exits: a.exits,
    scoring: a.scoring,
    labels: cat(a.labels, b.labels, new Int32Array(n)),
    scores: a.scores.map((x, l) => cat(x, b.scores[l] as Float64Array, new Float64Array(n))),
    predictions: a.predictions.map((x, l) => cat(x, b.predictions[l] as Int32Array, new Int32Array(n))),
  };
}

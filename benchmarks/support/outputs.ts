/** A bundle's all-exit outputs for the accuracy benchmarks: loading, pooling, seeded re-splits. */
import { loadBundle, readBundleOutputs, type Bundle } from '../../src/config';
import { permutation, type ExitOutputs } from '../../src/router';

export interface BundleOutputs {
  bundle: Bundle;
  name: string;
  /** Cumulative MACs per exit. */
  costs: Float64Array;
  calibration: ExitOutputs;
  test: ExitOutputs;
}

export async function loadBundleOutputs(dir: string): Promise<BundleOutputs> {
  const bundle = await loadBundle(dir);
  const [calibration, test] = await Promise.all([readBundleOutputs(bundle, 'calibration'), readBundleOutputs(bundle, 'test')]);
  return {
    bundle,
    name: bundle.manifest.name,
    costs: Float64Array.from(bundle.manifest.exits.map((e) => e.macs)),
    calibration,
    test,
  };
}

/** The rows `idx` of a set of outputs, in that order. */
export function selectRows(o: ExitOutputs, idx: ArrayLike<number>): ExitOutputs {
  const n = idx.length;
  const k = o.classes;
  const labels = new Int32Array(n);
  const logits = o.logits.map(() => new Float32Array(n * k));
  for (let j = 0; j < n; j++) {
    const i = idx[j] as number;
    labels[j] = o.labels[i] as number;
    o.logits.forEach((src, l) => (logits[l] as Float32Array).set(src.subarray(i * k, (i + 1) * k), j * k));
  }
  return { images: n, exits: o.exits, classes: k, labels, logits };
}

/** Both splits as one set (both are labelled), calibration rows first. */
export function pool(a: ExitOutputs, b: ExitOutputs): ExitOutputs {
  const k = a.classes;
  if (b.classes !== k || b.exits !== a.exits) throw new Error('pool: outputs of different shapes');
  const labels = new Int32Array(a.images + b.images);
  labels.set(a.labels);
  labels.set(b.labels, a.images);
  const logits = a.logits.map((x, l) => {
    const out = new Float32Array((a.images + b.images) * k);
    out.set(x);
    out.set(b.logits[l] as Float32Array, a.images * k);
    return out;
  });
  return { images: a.images + b.images, exits: a.exits, classes: k, labels, logits };
}

/** A random re-split of the pooled set with the original sizes. */
export function resplit(pooled: ExitOutputs, calibrationSize: number, seed: number): { calibration: ExitOutputs; test: ExitOutputs } {
  const p = permutation(pooled.images, seed);
  return { calibration: selectRows(pooled, p.subarray(0, calibrationSize)), test: selectRows(pooled, p.subarray(calibrationSize)) };
}

/** The first `n` rows of a seeded shuffle (a smaller calibration set). */
export function subsample(o: ExitOutputs, n: number, seed: number): ExitOutputs {
  return selectRows(o, permutation(o.images, seed).subarray(0, n));
}

import type { ExitOutputs, ScoredOutputs } from '../../src/router';
import { mulberry32, resolveScoring } from '../../src/router';

/**
 * Deterministic multi-exit outputs for tests: each image has a label, a
 * difficulty, and logits = strength[l] * difficulty * onehot(label) + noise,
 * with noise partly shared between the exits of an image (so exits agree
 * more often than chance, as real exits do). Later exits are stronger.
 */
export interface SyntheticSpec {
  images: number;
  seed: number;
  classes?: number;
  strength?: readonly number[];
  /** Correlation of an image's noise across exits. */
  shared?: number;
}

export function syntheticOutputs(spec: SyntheticSpec): ExitOutputs {
  const { images, seed } = spec;
  const classes = spec.classes ?? 10;
  const strength = spec.strength ?? [1.5, 2.5, 3.5, 5];
  const shared = spec.shared ?? 0.5;
  const exits = strength.length;
  const rand = mulberry32(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const labels = new Int32Array(images);
  const logits = strength.map(() => new Float32Array(images * classes));
  const common = new Float64Array(classes);
  for (let i = 0; i < images; i++) {
    const y = Math.floor(rand() * classes);
    labels[i] = y;
    const difficulty = 0.2 + 1.6 * rand();
    for (let c = 0; c < classes; c++) common[c] = gauss();
    strength.forEach((a, l) => {
      const row = logits[l] as Float32Array;
      for (let c = 0; c < classes; c++) {
        const noise = shared * (common[c] as number) + Math.sqrt(1 - shared * shared) * gauss();
        row[i * classes + c] = (c === y ? a * difficulty : 0) + noise;
      }
    });
  }
  return { images, exits, classes, labels, logits };
}

/** Outputs whose every exit is flat: only the tie noise separates classes. */
export function flatOutputs(images: number, exits: number, classes = 10): ExitOutputs {
  return {
    images,
    exits,
    classes,
    labels: new Int32Array(images),
    logits: Array.from({ length: exits }, () => new Float32Array(images * classes)),
  };
}

/** Hand-made scored outputs: scores[exit][image], predictions[exit][image]. */
export function handScored(scores: number[][], predictions: number[][], labels: number[]): ScoredOutputs {
  return {
    images: labels.length,
    exits: scores.length,
    labels: Int32Array.from(labels),
    scoring: resolveScoring(),
    scores: scores.map((s) => Float64Array.from(s)),
    predictions: predictions.map((p) => Int32Array.from(p)),
  };
}

export function sortedRamp(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => i / n);
}

/** The Fashion-MNIST test or calibration images as a bundle's input tensor, straight from the idx files (no image decoding). */
import * as path from 'node:path';
import type { InputSpec } from '../../src/config';
import { FMNIST_DIR, readIdx } from '../fmnist-pngs';
import { numpyPermutation } from './numpy-permutation';

export interface FmnistTensor {
  images: number;
  /** images x C x H x W, normalised as the manifest says. */
  input: Float32Array;
  labels: Uint8Array;
}

/** The official test split, or the toolkit's calibration split: the last 5,000 of RandomState(0).permutation(60000) of the training images (models/FORMAT.md "Splits"). */
export type FmnistSplit = 'test' | 'calibration';

const CALIBRATION_IMAGES = 5000;
const SPLIT_SEED = 0;

/** Pads the 28x28 images as the manifest says; the bundle must take them at their own size (resize 28x28 fill, gray). */
export function fmnistTensor(spec: InputSpec, count = 10000, split: FmnistSplit = 'test'): FmnistTensor {
  const prefix = split === 'test' ? 't10k' : 'train';
  const images = readIdx(path.join(FMNIST_DIR, `${prefix}-images-idx3-ubyte.gz`));
  const labels = readIdx(path.join(FMNIST_DIR, `${prefix}-labels-idx1-ubyte.gz`));
  const [n0, h, w] = images.dims as [number, number, number];
  if (spec.channels !== 1 || spec.resize.width !== w || spec.resize.height !== h) {
    throw new Error(`fmnistTensor: the bundle must take gray ${w}x${h} images without resizing`);
  }
  const order = split === 'test' ? undefined : numpyPermutation(n0, SPLIT_SEED).subarray(n0 - CALIBRATION_IMAGES);
  const n = Math.min(count, order?.length ?? n0);
  const [top, , , left] = spec.pad;
  const size = spec.height * spec.width;
  const mean = spec.mean[0] as number;
  const std = spec.std[0] as number;
  const bg = (spec.background[0] / spec.scale - mean) / std;
  const input = new Float32Array(n * size).fill(bg);
  const picked = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const src = order ? (order[i] as number) : i;
    picked[i] = labels.data[src] as number;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = images.data[src * h * w + y * w + x] as number;
        input[i * size + (y + top) * spec.width + x + left] = (v / spec.scale - mean) / std;
      }
    }
  }
  return { images: n, input, labels: picked };
}

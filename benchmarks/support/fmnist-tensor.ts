/** The Fashion-MNIST test images as a bundle's input tensor, straight from the idx files (no image decoding). */
import * as path from 'node:path';
import type { InputSpec } from '../../src/config';
import { FMNIST_DIR, readIdx } from '../fmnist-pngs';

export interface FmnistTensor {
  images: number;
  /** images x C x H x W, normalised as the manifest says. */
  input: Float32Array;
  labels: Uint8Array;
}

/** Pads the 28x28 images as the manifest says; the bundle must take them at their own size (resize 28x28 fill, gray). */
export function fmnistTensor(spec: InputSpec, count = 10000): FmnistTensor {
  const images = readIdx(path.join(FMNIST_DIR, 't10k-images-idx3-ubyte.gz'));
  const labels = readIdx(path.join(FMNIST_DIR, 't10k-labels-idx1-ubyte.gz'));
  const [n0, h, w] = images.dims as [number, number, number];
  if (spec.channels !== 1 || spec.resize.width !== w || spec.resize.height !== h) {
    throw new Error(`fmnistTensor: the bundle must take gray ${w}x${h} images without resizing`);
  }
  const n = Math.min(count, n0);
  const [top, , , left] = spec.pad;
  const size = spec.height * spec.width;
  const mean = spec.mean[0] as number;
  const std = spec.std[0] as number;
  const bg = (spec.background[0] / spec.scale - mean) / std;
  const input = new Float32Array(n * size).fill(bg);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = images.data[i * h * w + y * w + x] as number;
        input[i * size + (y + top) * spec.width + x + left] = (v / spec.scale - mean) / std;
      }
    }
  }
  return { images: n, input, labels: labels.data.slice(0, n) };
}

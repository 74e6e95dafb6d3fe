/** The Fashion-MNIST input spec of the shipped bundles, and the torch reference's tensor for a 28x28 image. */
import type { InputSpec } from '../../src/config';

export const FMNIST: InputSpec = {
  channels: 1,
  colorSpace: 'gray',
  height: 32,
  width: 32,
  resize: { width: 28, height: 28, fit: 'fill' },
  pad: [2, 2, 2, 2],
  background: [0, 0, 0],
  scale: 255,
  mean: [0.286],
  std: [0.353],
};

/** What the torch reference does: np.pad by 2 zeros, then (x.float() / 255 - mean) / std in float32. */
export function reference(pixels: Buffer): Float32Array {
  const f = Math.fround;
  const out = new Float32Array(32 * 32);
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      const inside = y >= 2 && y < 30 && x >= 2 && x < 30;
      const p = inside ? (pixels[(y - 2) * 28 + (x - 2)] as number) : 0;
      out[y * 32 + x] = f(f(f(p / 255) - f(0.286)) / f(0.353));
    }
  }
  return out;
}

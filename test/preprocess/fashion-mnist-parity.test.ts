import type { InputSpec } from '../../src/config';
import { preprocessImage } from '../../src/preprocess';
import { fromRaw, LIMIT, noiseBytes, rawImage } from './images';

const FMNIST: InputSpec = {
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
function reference(pixels: Buffer): Float32Array {
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

describe('Fashion-MNIST preprocessing parity', () => {
  const pixels = noiseBytes(28 * 28, 7);
  pixels[0] = 0;
  pixels[1] = 255;

  it('pads a 28x28 gray PNG with zeros and normalises it exactly as the torch reference', async () => {
    const png = await fromRaw(rawImage(28, 28, 1, (x, y) => pixels[y * 28 + x] as number))
      .toColourspace('b-w')
      .png()
      .toBuffer();
    const out = await preprocessImage(png, FMNIST, LIMIT);
    expect(out.shape).toEqual([1, 32, 32]);
    expect(out.data).toEqual(reference(pixels));
    // and to double precision, within float32 rounding
    out.data.forEach((v, i) => {
      const y = Math.floor(i / 32);
      const x = i % 32;
      const p = y >= 2 && y < 30 && x >= 2 && x < 30 ? (pixels[(y - 2) * 28 + (x - 2)] as number) : 0;
      expect(Math.abs(v - (p / 255 - 0.286) / 0.353)).toBeLessThan(1e-6);
    });
    expect(out.facts).toMatchObject({ format: 'png', width: 28, height: 28, isGray: true, hasAlpha: false });
  });

  it('gives the same tensor when the gray PNG is stored as RGB', async () => {
    const rgb = await fromRaw(rawImage(28, 28, 3, (x, y) => pixels[y * 28 + x] as number))
      .png()
      .toBuffer();
    const out = await preprocessImage(rgb, FMNIST, LIMIT);
    expect(out.facts.isGray).toBe(false);
    expect(out.data).toEqual(reference(pixels));
  });
});

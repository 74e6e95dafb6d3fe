import { preprocessImage } from '../../src/preprocess';
import { FMNIST, reference } from './fashion-mnist';
import { fromRaw, LIMIT, noiseBytes, rawImage } from './images';

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

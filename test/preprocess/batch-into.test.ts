import { createPreprocessor, preprocessImage, preprocessInto } from '../../src/preprocess';
import { fromRaw, LIMIT, plainSpec, rawImage } from './images';

const spec = plainSpec({ width: 4, height: 4, mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3] });

async function png(value: number): Promise<Buffer> {
  return fromRaw(rawImage(4, 4, 3, (x, y, c) => (value + x * 10 + y * 3 + c) & 0xff))
    .png()
    .toBuffer();
}

describe('writing images into a caller-provided NCHW tensor', () => {
  it('fills each row of a batch with exactly what preprocessImage returns, touching nothing else', async () => {
    const pre = createPreprocessor(spec);
    expect(pre.imageLength).toBe(3 * 4 * 4);
    const batch = new Float32Array(3 * pre.imageLength + 5).fill(99);
    const images = await Promise.all([10, 90, 170].map(png));
    const facts = await Promise.all(images.map((bytes, i) => pre.preprocessInto(bytes, batch, i * pre.imageLength, LIMIT)));
    expect(facts.map((f) => f.format)).toEqual(['png', 'png', 'png']);
    for (const [i, bytes] of images.entries()) {
      const alone = await preprocessImage(bytes, spec, LIMIT);
      expect(batch.subarray(i * pre.imageLength, (i + 1) * pre.imageLength)).toEqual(alone.data);
    }
    expect(Array.from(batch.subarray(3 * pre.imageLength))).toEqual([99, 99, 99, 99, 99]);
  });

  it('writes at an offset with the one-call helper', async () => {
    const target = new Float32Array(100).fill(-7);
    await preprocessInto(await png(0), spec, target, 52, LIMIT);
    expect(target[51]).toBe(-7);
    expect(target[52]).toBeCloseTo((0 / 255 - 0.5) / 0.2, 6);
    expect(target[99]).not.toBe(-7);
  });

  it('refuses an offset that does not fit, before decoding', async () => {
    const pre = createPreprocessor(spec);
    const target = new Float32Array(pre.imageLength * 2);
    const bytes = await png(0);
    await expect(pre.preprocessInto(bytes, target, pre.imageLength + 1, LIMIT)).rejects.toThrow(RangeError);
    await expect(pre.preprocessInto(bytes, target, -1, LIMIT)).rejects.toThrow(RangeError);
    await expect(pre.preprocessInto(bytes, target, 0.5, LIMIT)).rejects.toThrow(RangeError);
    await expect(pre.preprocessInto(Buffer.alloc(0), target, pre.imageLength + 1, LIMIT)).rejects.toThrow(RangeError);
  });

  it('leaves the target row untouched when the image is refused', async () => {
    const pre = createPreprocessor(spec);
    const target = new Float32Array(pre.imageLength).fill(3);
    await expect(pre.preprocessInto(Buffer.from('not an image'), target, 0, LIMIT)).rejects.toMatchObject({ code: 'NOT_AN_IMAGE' });
    expect(target.every((v) => v === 3)).toBe(true);
  });

  it('rejects a missing or non-positive pixel limit', async () => {
    await expect(preprocessImage(await png(0), spec, { limitInputPixels: 0 })).rejects.toThrow(RangeError);
  });
});

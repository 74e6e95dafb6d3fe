import * as path from 'node:path';
import { FMNIST_DIR, readIdx } from '../../benchmarks/fmnist-pngs';
import { grayPng } from '../../benchmarks/support/png';
import type { InputSpec } from '../../src/config';
import { createDecodePool, createPreprocessor, preprocessImage } from '../../src/preprocess';
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

describe('the 10,000 Fashion-MNIST test images as PNG files (as benchmarks/fmnist-pngs.ts writes them)', () => {
  it('each takes the PNG fast path and gets the tensor of the sharp path and of the torch reference, bit for bit', async () => {
    const images = readIdx(path.join(FMNIST_DIR, 't10k-images-idx3-ubyte.gz'));
    const n = images.dims[0] as number;
    expect(n).toBe(10_000);
    const pre = createPreprocessor(FMNIST);
    const pool = createDecodePool({ slots: 2 });
    let queued = 0;
    const run = pool.run.bind(pool);
    pool.run = (job, task) => (queued++, run(job, task));
    const fast = new Float32Array(pre.imageLength);
    const slow = new Float32Array(pre.imageLength * 64);
    const mismatches: number[] = [];
    for (let start = 0; start < n; start += 64) {
      const batch = Array.from({ length: Math.min(64, n - start) }, (_, k) => {
        const pixels = images.data.subarray((start + k) * 784, (start + k + 1) * 784);
        return { pixels, png: grayPng(pixels, 28, 28) };
      });
      // The sharp path, 64 at a time (its decodes run on libuv's threads).
      await Promise.all(batch.map((b, k) => pre.preprocessInto(b.png, slow, k * pre.imageLength, { ...LIMIT, fastPath: false })));
      for (const [k, b] of batch.entries()) {
        await pre.preprocessInto(b.png, fast, 0, { ...LIMIT, pool });
        const expected = reference(Buffer.from(b.pixels));
        const viaSharp = slow.subarray(k * pre.imageLength, (k + 1) * pre.imageLength);
        if (!fast.every((v, i) => v === viaSharp[i] && v === expected[i])) mismatches.push(start + k);
      }
    }
    expect(mismatches).toEqual([]);
    expect(queued).toBe(0);
  }, 300_000);
});

/** The whole Fashion-MNIST test split through the PNG fast path: a data sweep (10,000 images), not a unit test. */
import * as path from 'node:path';
import { FMNIST_DIR, readIdx } from '../../benchmarks/fmnist-pngs';
import { grayPng } from '../../benchmarks/support/png';
import { createDecodePool, createPreprocessor } from '../../src/preprocess';
import { FMNIST, reference } from './fashion-mnist';
import { LIMIT } from './images';

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

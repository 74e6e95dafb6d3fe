/**
 * Preprocessing throughput (sharp through src/preprocess) on a 28x28 PNG, a
 * 640x480 JPEG and a 4000x3000 JPEG, against a decode-only floor (sharp
 * decoding to raw pixels, no resize, no normalisation). Benchmarks import
 * sharp only to make the test images and for that floor.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import type { InputSpec } from '../src/config';
import { configureSharp, createPreprocessor } from '../src/preprocess';
import { FMNIST_DIR, readIdx } from './fmnist-pngs';
import { interleave } from './support/interleave';
import { median } from './support/format';
import { DATA_DIR } from './support/options';
import { grayPng } from './support/png';

export interface PreprocessRow {
  image: string;
  spec: string;
  imagesPerSecond: number;
  decodeOnlyPerSecond: number;
}

/** ImageNet's rule: shorter side to 224, centre crop, sRGB. */
export const IMAGENET_SPEC: InputSpec = {
  channels: 3,
  colorSpace: 'srgb',
  height: 224,
  width: 224,
  resize: { width: 224, height: 224, fit: 'cover' },
  pad: [0, 0, 0, 0],
  background: [0, 0, 0],
  scale: 255,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

/** A photo-like JPEG (smooth gradients, some texture and noise), made once and cached. */
async function testJpeg(width: number, height: number): Promise<Uint8Array> {
  const file = path.join(DATA_DIR, 'preprocess', `photo-${width}x${height}.jpg`);
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    const px = Buffer.alloc(width * height * 3);
    let s = 12345;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        const noise = (s >>> 24) / 16;
        const i = 3 * (y * width + x);
        px[i] = (255 * x) / width + noise;
        px[i + 1] = 128 + 100 * Math.sin((x + y) / 37) + noise;
        px[i + 2] = (255 * y) / height + noise;
      }
    }
    writeFileSync(
      file,
      await sharp(px, { raw: { width, height, channels: 3 } })
        .jpeg({ quality: 85 })
        .toBuffer(),
    );
  }
  return new Uint8Array(readFileSync(file));
}

/** `n` images through `fn`, `concurrency` at a time (sharp decodes off the main thread). */
async function throughput(n: number, concurrency: number, fn: () => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < n) await fn();
    }),
  );
}

export async function preprocessSpeed(o: { quick: boolean; fmnistSpec: InputSpec }): Promise<PreprocessRow[]> {
  const idx = readIdx(path.join(FMNIST_DIR, 't10k-images-idx3-ubyte.gz'));
  const png = new Uint8Array(grayPng(idx.data.subarray(0, 28 * 28), 28, 28));
  const cases: Array<[string, Uint8Array, number]> = [
    ['28x28 PNG (Fashion-MNIST)', png, o.quick ? 50 : 2000],
    ['640x480 JPEG', await testJpeg(640, 480), o.quick ? 10 : 300],
    ['4000x3000 JPEG', await testJpeg(4000, 3000), o.quick ? 2 : 20],
  ];
  const specs: Array<[string, InputSpec]> = [
    ['bundle (gray 32x32)', o.fmnistSpec],
    ['ImageNet (sRGB 224 cover)', IMAGENET_SPEC],
  ];
  // The service's settings (src/server calls this at start-up): one libvips thread per image, no operation cache.
  configureSharp();
  const concurrency = availableParallelism();
  const rows: PreprocessRow[] = [];
  for (const [image, bytes, n] of cases) {
    for (const [specName, spec] of specs) {
      const p = createPreprocessor(spec);
      const target = new Float32Array(p.imageLength);
      const options = { limitInputPixels: 40_000_000 };
      const variants = [
        { name: 'preprocess', run: () => throughput(n, concurrency, () => p.preprocessInto(bytes, target, 0, options)) },
        { name: 'decode', run: () => throughput(n, concurrency, () => sharp(bytes, { limitInputPixels: 40_000_000 }).raw().toBuffer()) },
      ];
      for (const v of variants) await v.run();
      const t = await interleave(variants, o.quick ? 1 : 3);
      rows.push({
        image,
        spec: specName,
        imagesPerSecond: n / median(t.get('preprocess')?.seconds ?? []),
        decodeOnlyPerSecond: n / median(t.get('decode')?.seconds ?? []),
      });
    }
  }
  return rows;
}

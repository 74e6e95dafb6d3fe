/**
 * Writes the Fashion-MNIST test split (Debian's dataset-fashion-mnist) as PNG
 * files, <out>/<class index>/<index>.png, for end-to-end runs of `eero classify`.
 * Usage: node dist/benchmarks/fmnist-pngs.js [out] [count]
 */
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { encodeGrayPng } from './support/png';

export const FMNIST_DIR = '/usr/share/datasets/fashion-mnist';

export function readIdx(file: string): { dims: number[]; data: Uint8Array } {
  const buf = gunzipSync(readFileSync(file));
  const ndim = buf[3] as number;
  const dims = Array.from({ length: ndim }, (_, i) => buf.readUInt32BE(4 + 4 * i));
  return {
    dims,
    data: new Uint8Array(
      buf.buffer,
      buf.byteOffset + 4 + 4 * ndim,
      dims.reduce((a, b) => a * b, 1),
    ),
  };
}

export async function writeFmnistPngs(out: string, count = 10000): Promise<number> {
  const images = readIdx(path.join(FMNIST_DIR, 't10k-images-idx3-ubyte.gz'));
  const labels = readIdx(path.join(FMNIST_DIR, 't10k-labels-idx1-ubyte.gz'));
  const n = Math.min(count, images.dims[0] as number);
  const [h, w] = [images.dims[1] as number, images.dims[2] as number];
  let written = 0;
  for (let i = 0; i < n; i++) {
    const dir = path.join(out, String(labels.data[i]));
    const file = path.join(dir, `${String(i).padStart(5, '0')}.png`);
    if (existsSync(file)) continue;
    mkdirSync(dir, { recursive: true });
    await encodeGrayPng(images.data.subarray(i * h * w, (i + 1) * h * w), w, h, file);
    written++;
  }
  return written;
}

if (require.main === module) {
  const out = process.argv[2] ?? 'benchmarks/data/fmnist-test';
  const count = Number(process.argv[3] ?? 10000);
  writeFmnistPngs(out, count).then(
    (n) => process.stdout.write(`wrote ${n} PNG files under ${out}\n`),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}

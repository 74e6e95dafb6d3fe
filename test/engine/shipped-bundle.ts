/**
 * The bundle the engine tests run on: the shipped models/resnet18-fmnist
 * (committed; the tests fail, never skip, when it is missing). Fixture images
 * are turned into tensors here with sharp, as FORMAT.md describes, so these
 * tests do not depend on src/preprocess.
 */
import { cp, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { Bundle, Manifest } from '../../src/config';

export const BUNDLE_DIR = resolve(__dirname, '../../models/resnet18-fmnist');

/** Light on the shared CI cores. */
export const TEST_ENGINE_OPTIONS = { intraOpThreads: 1 } as const;

export interface Fixtures {
  files: string[];
  /** images x C*H*W, normalised. */
  input: Float32Array;
  /** torch's logits: [image][exit][class]. */
  logits: number[][][];
}

export async function loadFixtures(bundle: Bundle): Promise<Fixtures> {
  const m = bundle.manifest;
  const folder = join(bundle.dir, m.fixtures?.folder ?? 'fixtures');
  const golden = JSON.parse(await readFile(join(bundle.dir, m.fixtures?.logits ?? 'fixtures/logits.json'), 'utf8'));
  const size = m.input.channels * m.input.height * m.input.width;
  const input = new Float32Array(golden.files.length * size);
  for (let i = 0; i < golden.files.length; i++) {
    input.set(await imageTensor(join(folder, golden.files[i]), m), i * size);
  }
  return { files: golden.files, input, logits: golden.logits };
}

/** Gray Fashion-MNIST fixture: decode, resize (fill), pad, normalise. */
async function imageTensor(file: string, m: Manifest): Promise<Float32Array> {
  const { channels, height, width, resize, pad, scale, mean, std } = m.input;
  if (channels !== 1) throw new Error('test helper handles gray bundles only');
  const [top, right, bottom, left] = pad;
  // From a buffer: configureSharp (the service's set-up, process-wide) allows only buffer loaders.
  const { data } = await sharp(await readFile(file))
    .greyscale()
    .resize(resize.width, resize.height, { fit: 'fill' })
    .extend({ top, right, bottom, left, background: { r: 0, g: 0, b: 0 } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (data.length !== height * width) throw new Error(`${file}: decoded ${data.length} pixels`);
  return Float32Array.from(data, (p) => (p / scale - (mean[0] as number)) / (std[0] as number));
}

/**
 * Reference: every stage run on the whole batch with plain onnxruntime
 * sessions (no engine). Returns each exit's logits, batch x K.
 */
export async function referenceLogits(bundle: Bundle, input: Float32Array, batch: number): Promise<Float32Array[]> {
  const m = bundle.manifest;
  const out: Float32Array[] = [];
  let x: ort.Tensor = new ort.Tensor('float32', input, [batch, m.input.channels, m.input.height, m.input.width]);
  for (let l = 0; l < m.stages.length; l++) {
    const stage = m.stages[l]!;
    const session = await ort.InferenceSession.create(bundle.stagePaths[l]!, { intraOpNumThreads: 1 });
    const result = await session.run({ [stage.input.name]: x });
    out.push(result[stage.logits.name]!.data as Float32Array);
    if (stage.features) x = result[stage.features.name] as ort.Tensor;
    await session.release();
  }
  return out;
}

export async function copyBundle(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'eero-engine-'));
  await cp(BUNDLE_DIR, dir, { recursive: true });
  return dir;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

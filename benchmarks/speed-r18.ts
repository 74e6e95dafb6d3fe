/**
 * The ImageNet-shaped ResNet-18 (224x224, untrained weights from
 * `eero_toolkit export-untrained`): stage-wise with a FIXED exit mix (row r
 * leaves at exit r mod M, i.e. an equal share at each exit, since an
 * untrained net's confidences mean nothing) against its one-graph reference.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { createEngine, type Engine } from '../src/engine';
import { interleave, speedup, type Timed } from './support/interleave';
import { median } from './support/format';
import { DATA_DIR, REPO_ROOT } from './support/options';
import { untrainedBundles } from './support/synthetic-bundle';

export const R18_DIR = path.join(DATA_DIR, 'r18-224');

export interface R18Row {
  batch: number;
  images: number;
  imagesPerSecondFull: number;
  imagesPerSecondStaged: number;
  speedup: number;
  ideal: number;
}

export interface R18Speed {
  fullMacs: number;
  exitMacs: number[];
  exported: boolean;
  rows: R18Row[];
}

function ensureExported(): boolean {
  if (existsSync(path.join(R18_DIR, 'graphs.json'))) return false;
  process.stderr.write(`speed: exporting the untrained 224x224 ResNet-18 into ${R18_DIR}\n`);
  execFileSync('/usr/bin/python3', ['-m', 'eero_toolkit', 'export-untrained', '--out', R18_DIR], {
    cwd: path.join(REPO_ROOT, 'models', 'toolkit'),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return true;
}

async function pass(engine: Engine, input: Float32Array, n: number, batch: number, exits: number): Promise<void> {
  const size = engine.imageSize;
  // Row ids are batch-local; offset them so the mix is equal over the whole pass.
  for (let i = 0; i < n; i += batch) {
    const b = Math.min(batch, n - i);
    const leave = (exit: number, _z: Float32Array, rows: Int32Array): Uint8Array =>
      Uint8Array.from(rows, (r) => ((i + r) % exits === exit ? 1 : 0));
    await engine.run(input.subarray(i * size, (i + b) * size), b, leave);
  }
}

export async function r18Speed(o: { quick: boolean; threads: number }): Promise<R18Speed> {
  const exported = ensureExported();
  const { staged, reference, macs } = untrainedBundles(R18_DIR);
  const [eStaged, eRef] = await Promise.all([
    createEngine(staged, { intraOpThreads: o.threads }),
    createEngine(reference, { intraOpThreads: o.threads }),
  ]);
  try {
    const m = macs.length;
    const fullMacs = macs[m - 1] as number;
    const rows: R18Row[] = [];
    for (const batch of [1, 16]) {
      const n = o.quick ? batch * 1 : batch === 1 ? 16 : 64;
      const input = Float32Array.from({ length: n * eStaged.imageSize }, (_, i) => Math.sin(i * 0.37));
      // Realised cost of the mix over these n rows.
      let sum = 0;
      for (let r = 0; r < n; r++) sum += macs[r % m] as number;
      const variants = [
        { name: 'full', run: () => pass(eRef, input, n, batch, 1) },
        { name: 'staged', run: () => pass(eStaged, input, n, batch, m) },
      ];
      for (const v of variants)
        await pass(
          v.name === 'full' ? eRef : eStaged,
          input.subarray(0, batch * eStaged.imageSize),
          batch,
          batch,
          v.name === 'full' ? 1 : m,
        );
      const timed = await interleave(variants, o.quick ? 1 : 3);
      const full = timed.get('full') as Timed<void>;
      const st = timed.get('staged') as Timed<void>;
      rows.push({
        batch,
        images: n,
        imagesPerSecondFull: n / median(full.seconds),
        imagesPerSecondStaged: n / median(st.seconds),
        speedup: speedup(full, st),
        ideal: fullMacs / (sum / n),
      });
      process.stderr.write(`speed: r18-224 batch ${batch}: ${n} images\n`);
    }
    return { fullMacs, exitMacs: macs, exported, rows };
  } finally {
    await Promise.all([eStaged.dispose(), eRef.dispose()]);
  }
}

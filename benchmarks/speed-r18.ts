/**
 * The ImageNet-shaped ResNet-18 (224x224, width 64, 1000 classes, UNTRAINED
 * weights from `eero_toolkit export-untrained`, exits after its 4 stages) as
 * engines: the stage chain with its early-exit.onnx (composed by
 * support/compose_untrained.py as `eero_toolkit compose` does for a bundle)
 * and the one-graph reference. Quick mode uses a small version of it (64x64,
 * width 16, 10 classes) in its own folder, to exercise the code in seconds.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { createEngine, type Engine } from '../src/engine';
import { DATA_DIR, REPO_ROOT } from './support/options';
import { untrainedBundles } from './support/synthetic-bundle';

export const R18_DIR = path.join(DATA_DIR, 'r18-224');
const R18_QUICK_DIR = path.join(DATA_DIR, 'r18-quick');
const TOOLKIT = path.join(REPO_ROOT, 'models', 'toolkit');

export interface R18 {
  dir: string;
  /** What was exported or composed in this run. */
  made: string[];
  staged: Engine;
  reference: Engine;
  /** Cumulative MACs per exit. */
  macs: number[];
  size: number;
  classes: number;
}

function python(args: string[]): void {
  execFileSync('/usr/bin/python3', args, {
    cwd: TOOLKIT,
    env: { ...process.env, PYTHONPATH: TOOLKIT },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** The composer's sources (the toolkit's early_exit package), concatenated in path order: the stamp of a composed graph. */
function composerSources(): Buffer {
  const dir = path.join(TOOLKIT, 'eero_toolkit', 'early_exit');
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.py'))
    .sort();
  return Buffer.concat(files.map((f) => Buffer.concat([Buffer.from(`${f}\n`), readFileSync(path.join(dir, f))])));
}

/** Exports the network when its folder lacks one; composes its early-exit.onnx when that is missing or older than the toolkit's composer. */
function ensureReady(dir: string, quick: boolean): string[] {
  const made: string[] = [];
  if (!existsSync(path.join(dir, 'graphs.json'))) {
    process.stderr.write(`speed: exporting the untrained ResNet-18 into ${dir}\n`);
    const small = quick ? ['--image-size', '64', '--width', '16', '--classes', '10'] : [];
    python(['-m', 'eero_toolkit', 'export-untrained', '--out', dir, ...small]);
    made.push('exported');
  }
  const graphs = JSON.parse(readFileSync(path.join(dir, 'graphs.json'), 'utf8')) as { earlyExit?: { sha256: string } };
  const composer = composerSources();
  const stamp = path.join(dir, 'early-exit.composer');
  const current = existsSync(stamp) && readFileSync(stamp).equals(composer);
  if (!graphs.earlyExit || !current) {
    process.stderr.write(`speed: composing early-exit.onnx in ${dir}\n`);
    python([path.join(REPO_ROOT, 'benchmarks', 'support', 'compose_untrained.py'), dir]);
    writeFileSync(stamp, composer);
    made.push('composed');
  }
  return made;
}

export async function openR18(o: { quick: boolean; threads: number }): Promise<R18> {
  const dir = o.quick ? R18_QUICK_DIR : R18_DIR;
  const made = ensureReady(dir, o.quick);
  const { staged, reference, macs } = untrainedBundles(dir);
  const [s, r] = await Promise.all([
    createEngine(staged, { intraOpThreads: o.threads }),
    createEngine(reference, { intraOpThreads: o.threads }),
  ]);
  return { dir, made, staged: s, reference: r, macs, size: staged.manifest.input.height, classes: staged.manifest.labels.length };
}

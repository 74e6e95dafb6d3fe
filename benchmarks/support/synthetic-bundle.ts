/**
 * Bundles that are not model folders: the reference graph (full.onnx) as a
 * one-stage bundle, an untrained network from `export-untrained`'s
 * graphs.json, a single-MatMul graph. They go through `createEngine` like
 * any bundle, so that only src/engine opens onnxruntime sessions.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Bundle, InputSpec, Manifest, StageSpec, TensorSpec } from '../../src/config';

/** The reference graph of a loaded bundle as a one-stage bundle. */
export function referenceBundle(bundle: Bundle): Bundle {
  const ref = bundle.manifest.reference;
  if (!ref) throw new Error(`${bundle.dir}: manifest has no reference graph (full.onnx)`);
  const last = bundle.manifest.exits[bundle.manifest.exits.length - 1];
  const stage: StageSpec = { file: ref.file, sha256: ref.sha256, bytes: ref.bytes, input: ref.input, logits: ref.logits };
  return {
    dir: bundle.dir,
    manifest: { ...bundle.manifest, stages: [stage], exits: last ? [{ ...last, exit: 1 }] : [] },
    stagePaths: [path.join(bundle.dir, ref.file)],
    outputPaths: bundle.outputPaths,
    earlyExitPath: undefined,
    referencePath: undefined,
  };
}

function syntheticManifest(name: string, input: InputSpec, classes: number, stages: StageSpec[], macs: number[]): Manifest {
  return {
    format: 1,
    name,
    architecture: {},
    labels: Array.from({ length: classes }, (_, i) => `class ${i}`),
    input,
    stages,
    exits: macs.map((m, i) => ({ exit: i + 1, macs: m, calibrationAccuracy: 0, testAccuracy: 0 })),
    outputs: {
      calibration: { file: 'none', sha256: '0'.repeat(64), images: 1 },
      test: { file: 'none', sha256: '0'.repeat(64), images: 1 },
    },
  };
}

function rgbInput(size: number): InputSpec {
  return {
    channels: 3,
    colorSpace: 'srgb',
    height: size,
    width: size,
    resize: { width: size, height: size, fit: 'cover' },
    pad: [0, 0, 0, 0],
    background: [0, 0, 0],
    scale: 255,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
  };
}

interface GraphsJson {
  untrained: boolean;
  stages: StageSpec[];
  reference: { file: string; sha256: string; bytes: number; input: TensorSpec; logits: TensorSpec };
  macs: number[];
  /** Written by support/compose_untrained.py: early-exit.onnx, as a manifest's `earlyExit`. */
  earlyExit?: Manifest['earlyExit'];
}

/** The stage-wise bundle (with its early-exit.onnx once composed) and the one-graph reference of an export-untrained folder. */
export function untrainedBundles(dir: string): { staged: Bundle; reference: Bundle; macs: number[] } {
  const g = JSON.parse(readFileSync(path.join(dir, 'graphs.json'), 'utf8')) as GraphsJson;
  const shape = g.stages[0]?.input.shape ?? [];
  const size = shape[2] as number;
  const classes = g.reference.logits.shape[1] as number;
  const none = { calibration: path.join(dir, 'none'), test: path.join(dir, 'none') };
  const ref: StageSpec = {
    file: g.reference.file,
    sha256: g.reference.sha256,
    bytes: g.reference.bytes,
    input: g.reference.input,
    logits: g.reference.logits,
  };
  return {
    staged: {
      dir,
      manifest: { ...syntheticManifest('untrained', rgbInput(size), classes, g.stages, g.macs), earlyExit: g.earlyExit },
      stagePaths: g.stages.map((s) => path.join(dir, s.file)),
      outputPaths: none,
      earlyExitPath: g.earlyExit ? path.join(dir, g.earlyExit.file) : undefined,
      referencePath: undefined,
    },
    reference: {
      dir,
      manifest: syntheticManifest('untrained-full', rgbInput(size), classes, [ref], [g.macs[g.macs.length - 1] as number]),
      stagePaths: [path.join(dir, ref.file)],
      outputPaths: none,
      earlyExitPath: undefined,
      referencePath: undefined,
    },
    macs: g.macs,
  };
}

/** A graph `logits = reshape(input, [-1, k]) @ W` (W: k x n), input shaped [-1, 1, 1, k]. */
export function matmulBundle(file: string, k: number, n: number): Bundle {
  const input: InputSpec = {
    ...rgbInput(1),
    channels: 1,
    colorSpace: 'gray',
    height: 1,
    width: k,
    resize: { width: k, height: 1, fit: 'fill' },
    mean: [0],
    std: [1],
  };
  const stage: StageSpec = {
    file: path.basename(file),
    sha256: '0'.repeat(64),
    bytes: 1,
    input: { name: 'input', shape: [-1, 1, 1, k] },
    logits: { name: 'logits', shape: [-1, n] },
  };
  const none = { calibration: file, test: file };
  return {
    dir: path.dirname(file),
    manifest: syntheticManifest('matmul', input, n, [stage], [k * n]),
    stagePaths: [file],
    outputPaths: none,
    earlyExitPath: undefined,
    referencePath: undefined,
  };
}

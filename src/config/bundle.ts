/** Loading a bundle folder: manifest validated, stage files present and intact. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EeroError } from '../errors';
import { manifestSchema } from './manifest-schema';
import type { Manifest } from './manifest-schema';
import { parseWithSchema } from './schema';
import { readYamlFile } from './yaml-file';

export interface Bundle {
  /** The bundle folder, as given. */
  dir: string;
  manifest: Manifest;
  /** Path of each stage's .onnx file, in stage order. */
  stagePaths: string[];
  /** Paths of the all-exit outputs files (not checked at load; see readBundleOutputs). */
  outputPaths: { calibration: string; test: string };
  /** The one-graph early-exit network, when the bundle has one. */
  earlyExitPath: string | undefined;
  /** The network without exits as one graph, when the bundle has one. */
  referencePath: string | undefined;
}

export interface LoadBundleOptions {
  /** Check every stage file's size and sha256 against the manifest (default true). */
  verify?: boolean;
}

const MANIFEST_FILE = 'manifest.yaml';

/** Whether `dir` holds a bundle (a manifest.yaml), without loading it. */
export async function isBundleDir(dir: string): Promise<boolean> {
  return stat(join(dir, MANIFEST_FILE)).then(
    (s) => s.isFile(),
    () => false,
  );
}

export async function loadBundle(dir: string, options: LoadBundleOptions = {}): Promise<Bundle> {
  const manifestPath = join(dir, MANIFEST_FILE);
  const raw = await readYamlFile(manifestPath, 'MODEL_INVALID', 'MODEL_FILE_MISSING');
  const manifest = parseWithSchema(manifestSchema, raw, manifestPath, 'MODEL_INVALID');
  const stagePaths = manifest.stages.map((s) => join(dir, s.file));
  // Every file a session may open is checked, the shared external weights included.
  const refs = [...manifest.stages, manifest.weights, manifest.earlyExit, manifest.reference].filter((r) => r !== undefined);
  await Promise.all(refs.map((r) => checkFile(join(dir, r.file), r.bytes, r.sha256, options.verify ?? true)));
  return {
    dir,
    manifest,
    stagePaths,
    outputPaths: {
      calibration: join(dir, manifest.outputs.calibration.file),
      test: join(dir, manifest.outputs.test.file),
    },
    earlyExitPath: manifest.earlyExit ? join(dir, manifest.earlyExit.file) : undefined,
    referencePath: manifest.reference ? join(dir, manifest.reference.file) : undefined,
  };
}

/** Exists (MODEL_FILE_MISSING otherwise); with `verify`, size and sha256 match (CHECKSUM_MISMATCH). */
export async function checkFile(file: string, bytes: number, sha256: string, verify: boolean): Promise<void> {
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new Error('not a regular file');
    size = info.size;
  } catch (e) {
    throw new EeroError('MODEL_FILE_MISSING', `${file}: bundle file missing`, { cause: e, details: { file } });
  }
  if (!verify) return;
  const expected = sha256.toLowerCase();
  if (size !== bytes) {
    throw new EeroError('CHECKSUM_MISMATCH', `${file}: size ${size} bytes, manifest says ${bytes} (sha256 expected ${expected})`, {
      details: { file, expectedBytes: bytes, actualBytes: size, expected },
    });
  }
  const actual = await sha256File(file);
  if (actual !== expected) {
    throw new EeroError('CHECKSUM_MISMATCH', `${file}: sha256 mismatch: expected ${expected}, actual ${actual}`, {
      details: { file, expected, actual },
    });
  }
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch (e) {
    throw new EeroError('IO_ERROR', `${file}: cannot be read`, { cause: e, details: { file } });
  }
  return hash.digest('hex');
}

/** Reading a bundle's outputs-*.bin (models/FORMAT.md): all-exit logits with labels. */
import { readFile } from 'node:fs/promises';
import { EeroError } from '../errors';
import type { ExitOutputs } from '../router';
import type { Bundle } from './bundle';
import { sha256File } from './bundle';

export type { ExitOutputs };

const MAGIC = 'EEROLGT1';
const HEADER_BYTES = 24;

export async function readExitOutputs(path: string): Promise<ExitOutputs> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    throw new EeroError('MODEL_FILE_MISSING', `${path}: outputs file missing`, { cause: e, details: { file: path } });
  }
  return decodeExitOutputs(buf, path);
}

export function decodeExitOutputs(buf: Buffer, path: string): ExitOutputs {
  const bad = (why: string): never => {
    throw new EeroError('MODEL_INVALID', `${path}: ${why}`, { details: { file: path } });
  };
  if (buf.length < HEADER_BYTES) bad(`${buf.length} bytes is shorter than the ${HEADER_BYTES}-byte header`);
  if (buf.toString('latin1', 0, 8) !== MAGIC) bad(`bad magic, expected ${MAGIC}`);
  const version = buf.readUInt32LE(8);
  if (version !== 1) bad(`unsupported version ${version}, expected 1`);
  const images = buf.readUInt32LE(12);
  const exits = buf.readUInt32LE(16);
  const classes = buf.readUInt32LE(20);
  if (images < 1 || exits < 1 || classes < 2) bad(`bad sizes N=${images} M=${exits} K=${classes}`);
  // Sizes come from the file: compute in doubles so a huge header cannot wrap.
  const expected = HEADER_BYTES + 4 * images + 4 * exits * images * classes;
  if (buf.length !== expected) {
    bad(`${buf.length} bytes, expected ${expected} for N=${images} M=${exits} K=${classes} (truncated or padded)`);
  }
  // Copy out of the Buffer so each array is aligned and owns its memory.
  const labels = new Int32Array(images);
  for (let i = 0; i < images; i++) labels[i] = buf.readInt32LE(HEADER_BYTES + 4 * i);
  const logits: Float32Array[] = [];
  const perExit = images * classes;
  let offset = HEADER_BYTES + 4 * images;
  for (let l = 0; l < exits; l++) {
    const bytes = new Uint8Array(perExit * 4);
    buf.copy(bytes, 0, offset, offset + perExit * 4);
    logits.push(littleEndianFloats(bytes));
    offset += perExit * 4;
  }
  return { images, exits, classes, labels, logits };
}

function littleEndianFloats(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1) return out;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: out.length }, (_, i) => view.getFloat32(4 * i, true));
}

export interface ReadBundleOutputsOptions {
  /** Check the file's sha256 against the manifest (default true). */
  verify?: boolean;
}

/** A bundle's calibration or test outputs, checked against its manifest. */
export async function readBundleOutputs(
  bundle: Bundle,
  split: 'calibration' | 'test',
  options: ReadBundleOutputsOptions = {},
): Promise<ExitOutputs> {
  const path = bundle.outputPaths[split];
  const ref = bundle.manifest.outputs[split];
  const outputs = await readExitOutputs(path);
  if (options.verify ?? true) {
    const actual = await sha256File(path);
    if (actual !== ref.sha256.toLowerCase()) {
      throw new EeroError('CHECKSUM_MISMATCH', `${path}: sha256 mismatch: expected ${ref.sha256}, actual ${actual}`, {
        details: { file: path, expected: ref.sha256, actual },
      });
    }
  }
  const m = bundle.manifest;
  const want = { images: ref.images, exits: m.exits.length, classes: m.labels.length };
  for (const key of ['images', 'exits', 'classes'] as const) {
    if (outputs[key] !== want[key]) {
      throw new EeroError('MODEL_INVALID', `${path}: ${key} ${outputs[key]}, manifest says ${want[key]}`, {
        details: { file: path },
      });
    }
  }
  return outputs;
}

/** Reading a bundle's outputs-*.bin (models/FORMAT.md): all-exit logits with labels. */
import { readFile } from 'node:fs/promises';
import { EeroError } from '../errors';
import type { Bundle } from './bundle';
import { sha256File } from './bundle';

/**
 * The logits of every exit on a set of images: what a bundle's
 * `outputs-*.bin` holds. The router does its maths on it.
 */
export interface ExitOutputs {
  images: number;
  exits: number;
  classes: number;
  /** One label per image, -1 where unknown. */
  labels: Int32Array;
  /** One array per exit, `images * classes` logits, row-major. */
  logits: Float32Array[];
}

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

/** Bytes per logit by format version: 1 stores float32, 2 float16 (models/FORMAT.md). */
const LOGIT_BYTES: Record<number, 2 | 4> = { 1: 4, 2: 2 };

export function decodeExitOutputs(buf: Buffer, path: string): ExitOutputs {
  const bad = (why: string): never => {
    throw new EeroError('MODEL_INVALID', `${path}: ${why}`, { details: { file: path } });
  };
  if (buf.length < HEADER_BYTES) bad(`${buf.length} bytes is shorter than the ${HEADER_BYTES}-byte header`);
  if (buf.toString('latin1', 0, 8) !== MAGIC) bad(`bad magic, expected ${MAGIC}`);
  const version = buf.readUInt32LE(8);
  const width = LOGIT_BYTES[version] ?? bad(`unsupported version ${version}, expected 1 or 2`);
  const images = buf.readUInt32LE(12);
  const exits = buf.readUInt32LE(16);
  const classes = buf.readUInt32LE(20);
  if (images < 1 || exits < 1 || classes < 2) bad(`bad sizes N=${images} M=${exits} K=${classes}`);
  // Sizes come from the file: compute in doubles so a huge header cannot wrap.
  const expected = HEADER_BYTES + 4 * images + width * exits * images * classes;
  if (buf.length !== expected) {
    bad(`${buf.length} bytes, expected ${expected} for N=${images} M=${exits} K=${classes} (truncated or padded)`);
  }
  const labels = new Int32Array(images);
  for (let i = 0; i < images; i++) labels[i] = buf.readInt32LE(HEADER_BYTES + 4 * i);
  const logits: Float32Array[] = [];
  const perExit = images * classes;
  let offset = HEADER_BYTES + 4 * images;
  for (let l = 0; l < exits; l++) {
    logits.push(width === 4 ? float32s(buf, offset, perExit) : float16s(buf, offset, perExit));
    offset += perExit * width;
  }
  return { images, exits, classes, labels, logits };
}

/** Copies out of the Buffer, so each array is aligned and owns its memory. */
function float32s(buf: Buffer, offset: number, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = buf.readFloatLE(offset + 4 * i);
  return out;
}

function float16s(buf: Buffer, offset: number, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = halfToFloat(buf.readUInt16LE(offset + 2 * i));
  return out;
}

/** IEEE 754 binary16 to a number, subnormals, infinities and NaN included. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
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

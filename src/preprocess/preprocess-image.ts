import { performance } from 'node:perf_hooks';
import type { InputSpec } from '../config';
import { EeroError } from '../errors';
import type { DecodeOptions } from './decode-pixels';
import { decodePixels } from './decode-pixels';
import type { DecodePool } from './decode-pool';
import { declaredSize } from './declared-size';
import { checkDeclaredSize, resolveLimits, type SizeLimits } from './image-limits';
import type { InputPlan } from './input-plan';
import { compileInputSpec } from './input-plan';
import { writeNormalised } from './normalise';
import type { ImageHeader } from './read-header';
import { readJpegHeader } from './jpeg-header';
import { tryPngFastPath } from './png-fast-path';
import { checkMagic, readHeader, readPngHeader } from './read-header';

export interface PreprocessOptions extends DecodeOptions, SizeLimits {
  /** Checked before decoding and before writing; an aborted call throws ABORTED. */
  signal?: AbortSignal;
  /** Where the libvips work waits for a thread (fairly across clients); absent, it starts at once. */
  pool?: DecodePool;
  /** The pool's queue this image waits in; default 'local'. */
  client?: string;
  /** The connection it came on: a client's turns in the pool go round its connections. */
  connection?: string;
  /** Clock time (the pool's clock) the answer is due: once past, the decode waits behind its client's decodes still in time. */
  dueAt?: number;
  /** Decode small, plain PNGs at the model's size without libvips (png-fast-path.ts); default true. The tensor is the same. */
  fastPath?: boolean;
}

/** Facts about the source image, for results, logs and metrics. */
export interface ImageFacts extends ImageHeader {
  /** Milliseconds from the first header read to the last float written. */
  durationMs: number;
}

export interface PreprocessedImage {
  /** C*H*W floats, CHW order, normalised as the spec says. */
  data: Float32Array;
  /** [channels, height, width] of `data`. */
  shape: [number, number, number];
  facts: ImageFacts;
}

/** A spec compiled once, to preprocess many images without re-checking it. */
export interface Preprocessor {
  readonly spec: InputSpec;
  /** Floats per image (C*H*W): image `i` of a batch starts at `i * imageLength`. */
  readonly imageLength: number;
  preprocess(bytes: Uint8Array, options: PreprocessOptions): Promise<PreprocessedImage>;
  /** Writes the image straight into `target` from element `offset` (e.g. one row of an NCHW batch). */
  preprocessInto(bytes: Uint8Array, target: Float32Array, offset: number, options: PreprocessOptions): Promise<ImageFacts>;
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new EeroError('ABORTED', 'Preprocessing was aborted.', { cause: signal.reason });
}

async function runInto(
  bytes: Uint8Array,
  plan: InputPlan,
  target: Float32Array,
  offset: number,
  options: PreprocessOptions,
): Promise<ImageFacts> {
  const limits = resolveLimits(options);
  if (!Number.isInteger(offset) || offset < 0 || offset + plan.length > target.length) {
    throw new RangeError(`Cannot write ${plan.length} floats at offset ${offset} into a tensor of ${target.length}.`);
  }
  checkAborted(options.signal);
  const start = performance.now();
  const format = checkMagic(bytes);
  // The declared size is refused here, in microseconds, before the image takes a place in the pool.
  const declared = declaredSize(bytes, format);
  if (declared !== undefined) checkDeclaredSize(declared, limits);
  if (format === 'png' && options.fastPath !== false) {
    const header = tryPngFastPath(bytes, plan, target, offset);
    if (header !== undefined) return { ...header, durationMs: performance.now() - start };
  }
  const decode = async (): Promise<{ header: ImageHeader; pixels: Uint8Array; channels: 1 | 3 }> => {
    checkAborted(options.signal);
    // PNG and JPEG headers are read here in JavaScript where they are plain; libvips reads the rest.
    const plain = format === 'png' ? readPngHeader(bytes) : format === 'jpeg' ? readJpegHeader(bytes) : undefined;
    if (plain !== undefined) checkDeclaredSize(plain, limits);
    const header = plain ?? (await readHeader(bytes, limits));
    checkAborted(options.signal);
    return { header, ...(await decodePixels(bytes, header, plan, options)) };
  };
  const job = {
    client: options.client ?? 'local',
    ...(options.connection === undefined ? {} : { connection: options.connection }),
    pixels: declared ? declared.width * declared.height : 0,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.dueAt === undefined ? {} : { dueAt: options.dueAt }),
  };
  const { header, pixels, channels } = options.pool ? await options.pool.run(job, decode) : await decode();
  checkAborted(options.signal);
  writeNormalised(pixels, channels, plan, target, offset);
  return { ...header, durationMs: performance.now() - start };
}

/** Compiles `spec` (throws MODEL_INVALID when it is inconsistent) for repeated use. */
export function createPreprocessor(spec: InputSpec): Preprocessor {
  const plan = compileInputSpec(spec);
  return {
    spec,
    imageLength: plan.length,
    async preprocess(bytes, options) {
      const data = new Float32Array(plan.length);
      const facts = await runInto(bytes, plan, data, 0, options);
      return { data, shape: [plan.channels, plan.height, plan.width], facts };
    },
    preprocessInto: (bytes, target, offset, options) => runInto(bytes, plan, target, offset, options),
  };
}

/**
 * Decodes one image and returns its normalised CHW tensor. Failures are
 * EeroErrors: EMPTY_INPUT, NOT_AN_IMAGE, UNSUPPORTED_FORMAT, CORRUPT_IMAGE,
 * TOO_MANY_PIXELS or EXTREME_ASPECT_RATIO (from the header, before decoding; TOO_MANY_PIXELS
 * also for a decode that overruns its time limit), ABORTED.
 * @internal For the tests.
 */
export function preprocessImage(bytes: Uint8Array, spec: InputSpec, options: PreprocessOptions): Promise<PreprocessedImage> {
  return createPreprocessor(spec).preprocess(bytes, options);
}

/**
 * Like `preprocessImage`, but writes into `target` from element `offset`, so a
 * batcher fills one NCHW tensor without copies. Returns the image's facts.
 * @internal For the tests.
 */
export function preprocessInto(
  bytes: Uint8Array,
  spec: InputSpec,
  target: Float32Array,
  offset: number,
  options: PreprocessOptions,
): Promise<ImageFacts> {
  return createPreprocessor(spec).preprocessInto(bytes, target, offset, options);
}

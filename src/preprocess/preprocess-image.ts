import { performance } from 'node:perf_hooks';
import type { InputSpec } from '../config';
import { EeroError } from '../errors';
import type { DecodeOptions } from './decode-pixels';
import { decodePixels } from './decode-pixels';
import type { InputPlan } from './input-plan';
import { compileInputSpec } from './input-plan';
import { writeNormalised } from './normalise';
import type { ImageHeader } from './read-header';
import { readHeader } from './read-header';

export interface PreprocessOptions extends DecodeOptions {
  /** Checked before decoding and before writing; an aborted call throws ABORTED. */
  signal?: AbortSignal;
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

function checkLimit(limitInputPixels: number): void {
  if (!Number.isInteger(limitInputPixels) || limitInputPixels <= 0) {
    throw new RangeError(`limitInputPixels must be a positive integer, not ${limitInputPixels}.`);
  }
}

async function runInto(
  bytes: Uint8Array,
  plan: InputPlan,
  target: Float32Array,
  offset: number,
  options: PreprocessOptions,
): Promise<ImageFacts> {
  checkLimit(options.limitInputPixels);
  if (!Number.isInteger(offset) || offset < 0 || offset + plan.length > target.length) {
    throw new RangeError(`Cannot write ${plan.length} floats at offset ${offset} into a tensor of ${target.length}.`);
  }
  checkAborted(options.signal);
  const start = performance.now();
  const header = await readHeader(bytes, options.limitInputPixels);
  checkAborted(options.signal);
  const { pixels, channels } = await decodePixels(bytes, header, plan, options);
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
 * TOO_MANY_PIXELS (from the header, before decoding), TIMEOUT, ABORTED.
 */
export function preprocessImage(bytes: Uint8Array, spec: InputSpec, options: PreprocessOptions): Promise<PreprocessedImage> {
  return createPreprocessor(spec).preprocess(bytes, options);
}

/**
 * Like `preprocessImage`, but writes into `target` from element `offset`, so a
 * batcher fills one NCHW tensor without copies. Returns the image's facts.
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

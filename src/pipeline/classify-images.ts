import { toEeroError, type EeroError } from '../errors';
import type { BudgetChoice, BudgetRequest } from './budget-choice';
import type { ModelRuntime } from './model-runtime';
import type { ImageResult } from './results';
import { runBatch, type StageTiming } from './run-batch';

export interface ClassifyOptions extends BudgetRequest {
  topk?: number;
  trace?: boolean;
  limitInputPixels: number;
  signal?: AbortSignal;
  /** First tie-breaking key; rows use key, key+1, ... */
  key?: number;
}

export type ImageOutcome = { ok: true; result: ImageResult } | { ok: false; error: EeroError };

export interface ClassifyBatchReport {
  outcomes: ImageOutcome[];
  preprocessSeconds: number;
  inferenceSeconds: number;
  stages: StageTiming[];
}

export interface PreparedBatch {
  /** NCHW rows of the images that decoded, in order. */
  input: Float32Array;
  /** Index (into the submitted images) of each row of `input`. */
  rows: number[];
  /** Per submitted image: its error, or undefined when it decoded. */
  errors: Array<EeroError | undefined>;
  preprocessSeconds: number;
}

/**
 * Preprocess each image straight into one NCHW tensor, concurrently (sharp
 * works off the main thread). A bad image is an error entry, not a failed batch.
 */
export async function prepareBatch(
  runtime: ModelRuntime,
  images: Array<Uint8Array | EeroError>,
  options: { limitInputPixels: number; signal?: AbortSignal },
): Promise<PreparedBatch> {
  const len = runtime.preprocessor.imageLength;
  const tensor = new Float32Array(images.length * len);
  const t0 = performance.now();
  const errors = await Promise.all(
    images.map((bytes, i) =>
      bytes instanceof Uint8Array
        ? runtime.preprocessor
            .preprocessInto(bytes, tensor, i * len, {
              limitInputPixels: options.limitInputPixels,
              ...(options.signal ? { signal: options.signal } : {}),
            })
            .then(
              () => undefined,
              (e: unknown) => toEeroError(e, 'CORRUPT_IMAGE'),
            )
        : bytes,
    ),
  );
  const rows = errors.flatMap((e, i) => (e === undefined ? [i] : []));
  let input = tensor;
  if (rows.length < images.length) {
    // Close the gaps left by refused images (rare: one copy of the good rows).
    input = new Float32Array(rows.length * len);
    rows.forEach((src, dst) => input.set(tensor.subarray(src * len, (src + 1) * len), dst * len));
  }
  return { input, rows, errors, preprocessSeconds: (performance.now() - t0) / 1000 };
}

/** Run a prepared batch with one budget choice for all its images. */
export async function classifyPrepared(
  runtime: ModelRuntime,
  prepared: PreparedBatch,
  choice: BudgetChoice,
  options: Pick<ClassifyOptions, 'topk' | 'trace' | 'key' | 'signal'> = {},
): Promise<ClassifyBatchReport> {
  const key = options.key ?? 0;
  const batch = prepared.rows.length
    ? await runBatch(
        runtime,
        prepared.input,
        prepared.rows.map((i) => ({ choice, topk: options.topk ?? 5, trace: options.trace ?? false, key: key + i })),
        options.signal,
      )
    : { results: [], stages: [], inferenceSeconds: 0 };
  const outcomes: ImageOutcome[] = new Array(prepared.errors.length);
  prepared.errors.forEach((e, i) => {
    if (e) outcomes[i] = { ok: false, error: e };
  });
  prepared.rows.forEach((i, j) => {
    outcomes[i] = { ok: true, result: batch.results[j] as ImageResult };
  });
  return { outcomes, preprocessSeconds: prepared.preprocessSeconds, inferenceSeconds: batch.inferenceSeconds, stages: batch.stages };
}

/** Preprocess and classify a batch of encoded images in one call. */
export async function classifyImages(runtime: ModelRuntime, images: Uint8Array[], options: ClassifyOptions): Promise<ClassifyBatchReport> {
  const choice = runtime.budgets.choose(options); // refuses a bad budget before decoding anything
  const prepared = await prepareBatch(runtime, images, options);
  return classifyPrepared(runtime, prepared, choice, options);
}

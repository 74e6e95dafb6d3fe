/**
 * The one classify path, shared by HTTP v1, KServe v2 (REST and gRPC) and the CLI:
 * bytes -> preprocess into the request's tensor (or a client's tensor, copied) -> batcher -> engine + router
 * (with the ledger) -> results. Bad images become error outcomes; failures
 * of the whole request (a bad budget, overload, timeout, shutdown) throw,
 * and the request's rows still queued are dropped before they cost anything.
 */
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { createBatcher, type BatchReport, type BatcherOptions } from '../batching';
import { DEFAULTS, type BatchingConfig } from '../config';
import { EeroError, toEeroError } from '../errors';
import { createDecodePool, type DecodePool } from '../preprocess';
import { LOCAL_CLIENT } from './derivation-limiter';
import type { LoadedModel } from './loaded-model';
import { AgreementMonitor, type MonitorOptions } from './monitor';
import type { RouteChoice } from './model-routing';
import type { ImageResult } from './results';
import type { RowMeta } from './row-meta';
import type { RoutingRequest } from './routing-request';
import { createBatchRunner, dueAt, type RunReport } from './run-batch';
import { isPixelInput, tensorWriter, type ClassifyInput, type PixelInput } from './tensor-input';

export interface ImageTimings {
  queueMs: number;
  preprocessMs: number;
  inferenceMs: number;
  batchSize: number;
  /** With a deadline: whether the answer was ready by it (on the classifier's clock, before any response is written). */
  deadline?: 'met' | 'missed';
}

export type ImageOutcome = { ok: true; result: ImageResult; timings: ImageTimings } | { ok: false; error: EeroError };

export interface ClassifyRequest {
  routing: RoutingRequest;
  /** Classes per image (clamped to the model's classes); default 5. */
  topk?: number;
  trace?: boolean;
  signal?: AbortSignal;
  /** Tie-breaking key of the first image (then +1 per image); default: the classifier's own counter. */
  key?: number;
  /** Told as each image is done (answered or failed). */
  onProgress?: (done: number, total: number) => void;
  /**
   * Who asks (an API key or an address): new expensive rules are limited per client, and without an
   * address the images wait in this client's decode queue. Default: the local client.
   */
  client?: string;
  /**
   * The address it came from (a client's key is whatever it sends): new rules are limited per address
   * too, and the queue and the decode pool are shared between addresses.
   */
  address?: string;
  /**
   * The connection it came on: the batch queue and the decode pool are shared between addresses (else
   * clients), then between their connections (src/batching/fair-shares.ts, due-queue.ts). Default: none
   * (a full queue only refuses).
   */
  connection?: string;
}

export interface ClassifyAnswer {
  choice: RouteChoice;
  outcomes: ImageOutcome[];
}

export interface ClassifierOptions {
  batching: BatchingConfig;
  limitInputPixels: number;
  /** Longest side and aspect ratio an image may declare; defaults in DEFAULTS. */
  maxSide?: number;
  maxAspectRatio?: number;
  /** Stop one image's decode after this many seconds (sharp's timeout); default DEFAULTS.decodeTimeoutSeconds. */
  decodeTimeoutSeconds?: number;
  /** Where decodes wait for a thread, shared by every model of a service; default: one of the classifier's own. */
  decodePool?: DecodePool;
  clock?: () => number;
  /** Metrics: every batcher run (with the engine's report when it succeeded). */
  onBatch?: (report: BatchReport, run: RunReport | undefined, error?: unknown) => void;
  /** Told for each image answered (metrics). */
  onImage?: (result: ImageResult, timings: ImageTimings) => void;
  /** Continue a sample of answers to the final exit in the background (the live agreement monitor). */
  monitor?: MonitorOptions;
  /** Told when a background monitor run fails (it never fails an answer). */
  onMonitorError?: (e: unknown) => void;
  /** Awaited before each batch forms (the batcher's settle: the server reads what has already arrived). */
  settle?: () => Promise<unknown>;
}

export interface Classifier {
  readonly model: LoadedModel;
  /** Encoded images, tensors of the model's input shape, or errors already found (answered as they are). */
  classify(images: ReadonlyArray<ClassifyInput>, request: ClassifyRequest): Promise<ClassifyAnswer>;
  /** Images waiting for a batch. */
  readonly depth: number;
  /** The live agreement monitor, when configured. */
  readonly monitor: AgreementMonitor | undefined;
  /** Refuse new images, finish the queued ones. */
  drain(): Promise<void>;
}

/** Every decodable image's outcome until its own comes in (one object: an error per image costs a stack trace each). */
const NOT_RUN = new EeroError('INTERNAL', 'not run');

function uncertified(r: ImageResult): EeroError {
  const why =
    r.stoppedBy === 'deadline'
      ? 'its deadline would stop it before the certified rule decides'
      : 'the budget ledger cannot pay for the exits its certified rule may need now';
  return new EeroError(
    'CERTIFICATE_UNAVAILABLE',
    `not answered: ${why}; retry later, ask without a guarantee, or allow uncertified answers (allow_uncertified=1)`,
    { details: { retryAfterSeconds: 1, stoppedBy: r.stoppedBy, exit: r.exit } },
  );
}

export function createClassifier(model: LoadedModel, options: ClassifierOptions): Classifier {
  const clock = options.clock ?? (() => performance.now());
  const imageLength = model.preprocessor.imageLength;
  const decodePool = options.decodePool ?? createDecodePool({ now: clock });
  const decodeOptions = {
    limitInputPixels: options.limitInputPixels,
    maxSide: options.maxSide ?? DEFAULTS.maxSide,
    maxAspectRatio: options.maxAspectRatio ?? DEFAULTS.maxAspectRatio,
    timeoutSeconds: options.decodeTimeoutSeconds ?? DEFAULTS.decodeTimeoutSeconds,
    pool: decodePool,
  };
  const writeTensor = tensorWriter(model.preprocessor.spec);
  let lastRun: RunReport | undefined;
  let idle = (): boolean => true;
  const monitor = options.monitor ? new AgreementMonitor(model, options.monitor, () => idle(), options.onMonitorError) : undefined;
  const run = createBatchRunner(model, {
    clock,
    onRun: (r) => (lastRun = r),
    ...(monitor
      ? {
          onRows: (input: Float32Array, metas: readonly RowMeta[], results: readonly ImageResult[]) => monitor.offer(input, metas, results),
        }
      : {}),
  });
  const batcherOptions: BatcherOptions<RowMeta, ImageResult> = {
    ...options.batching,
    ...(options.settle ? { settle: options.settle } : {}),
    imageLength,
    name: model.name,
    now: clock,
    run: async (batch) => {
      lastRun = undefined;
      return run(batch);
    },
    onBatch: (report, error) => {
      options.onBatch?.(report, error === undefined ? lastRun : undefined, error);
      monitor?.kick();
    },
  };
  const batcher = createBatcher(batcherOptions);
  // Idle for the engine: nothing queued or running (a request still decoding keeps the cores busy elsewhere).
  idle = () => batcher.queued === 0 && batcher.running === 0;
  let nextKey = 0;

  const classify = async (images: ReadonlyArray<ClassifyInput>, request: ClassifyRequest): Promise<ClassifyAnswer> => {
    const arrivedAt = clock();
    const client = request.client ?? LOCAL_CLIENT;
    const choice = model.routing.choose(request.routing, client, request.address); // a bad budget is refused before any decoding
    const due = dueAt(arrivedAt, choice);
    const firstKey = request.key ?? nextKey;
    nextKey = Math.max(nextKey, firstKey + images.length);
    const decodable = images.flatMap((img, i) => (img instanceof EeroError ? [] : [i]));
    // The queue and the decode pool are shared between addresses, not keys: a key is whatever a client sends.
    const sharer = request.address ?? client;
    const party = request.connection === undefined ? undefined : { client: sharer, connection: request.connection };
    const admission = batcher.admit(decodable.length, party);
    // The request's own stop: its deadline or client, or the first failure of the whole request.
    const stop = new AbortController();
    // Each queued row listens on this signal until its batch starts (the batcher's enqueue): one per image, not a leak.
    setMaxListeners(Math.max(10, decodable.length + 1), stop.signal);
    const onOuterAbort = (): void => stop.abort(request.signal?.reason);
    if (request.signal?.aborted) onOuterAbort();
    request.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const outcomes: ImageOutcome[] = images.map((img) => ({
      ok: false,
      error: img instanceof EeroError ? img : NOT_RUN,
    }));
    let done = images.length - decodable.length;
    const progress = (): void => request.onProgress?.(++done, images.length);
    try {
      const tensor = new Float32Array(decodable.length * imageLength);
      const preprocessMs = await Promise.all(
        decodable.map(async (i, j) => {
          const t0 = clock();
          const img = images[i] as Uint8Array | PixelInput;
          try {
            if (isPixelInput(img)) writeTensor(img, tensor, j * imageLength);
            else {
              await model.preprocessor.preprocessInto(img, tensor, j * imageLength, {
                ...decodeOptions,
                client: sharer,
                ...(request.connection === undefined ? {} : { connection: request.connection }),
                signal: stop.signal,
                ...(due === undefined ? {} : { dueAt: due }),
              });
            }
            return clock() - t0;
          } catch (e) {
            outcomes[i] = { ok: false, error: toEeroError(e, 'CORRUPT_IMAGE') };
            progress();
            return undefined;
          }
        }),
      );
      if (stop.signal.aborted) throw toEeroError(stop.signal.reason, 'ABORTED');
      const topk = Math.min(Math.max(1, request.topk ?? 5), model.labels.length);
      // Submitted together, after every decode: the batcher sees the request whole.
      const answers = decodable.flatMap((i, j) => {
        const ms = preprocessMs[j];
        if (ms === undefined) return [];
        const meta: RowMeta = { choice, key: firstKey + i, topk, trace: request.trace === true, arrivedAt };
        const row = tensor.subarray(j * imageLength, (j + 1) * imageLength);
        const answered = admission.submit(row, meta, stop.signal, due).then((b) => {
          const timings: ImageTimings = { ...b.timings, preprocessMs: ms };
          if (due !== undefined) timings.deadline = clock() <= due ? 'met' : 'missed';
          options.onImage?.(b.result, timings);
          // Certified or refused: an answer its certified rule did not produce is not passed off as one.
          outcomes[i] =
            b.result.certified === false && !choice.allowUncertified
              ? { ok: false, error: uncertified(b.result) }
              : { ok: true, result: b.result, timings };
          progress();
        });
        return [answered];
      });
      admission.release();
      const settled = await Promise.allSettled(answers);
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw toEeroError(failed.reason);
      return { choice, outcomes };
    } catch (e) {
      // Whatever of this request still waits in the queue is dropped now.
      if (!stop.signal.aborted) stop.abort(e);
      throw toEeroError(e);
    } finally {
      admission.release();
      request.signal?.removeEventListener('abort', onOuterAbort);
    }
  };

  return {
    model,
    classify,
    monitor,
    get depth() {
      return batcher.depth;
    },
    drain: async () => {
      // The monitor first, so that no background run still uses the sessions when the model is disposed.
      await monitor?.stop();
      await batcher.drain();
    },
  };
}

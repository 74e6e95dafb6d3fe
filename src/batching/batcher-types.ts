/** Types of the per-model dynamic batcher. */
import type { ImageResult, RowRequest, StageTiming } from '../pipeline';

/** One image waiting for a batch: its CHW tensor and how it is to be routed. */
export interface BatchRow {
  /** One image, C*H*W floats, normalised (the model's `preprocessor.imageLength`). */
  input: Float32Array;
  request: RowRequest;
}

export interface RowTimings {
  /** From submit to the start of the engine run that took the row. */
  queueMs: number;
  /** The whole engine run of the row's batch. */
  inferenceMs: number;
  /** Rows in that batch. */
  batchSize: number;
}

export type BatchedResult = ImageResult & { timings: RowTimings };

/** What one engine run did, for metrics. */
export interface BatchReport {
  size: number;
  inferenceSeconds: number;
  stages: StageTiming[];
  /** Per row, seconds it waited in the queue. */
  queueSeconds: number[];
}

export interface BatcherOptions {
  /** Most rows per engine run. */
  maxBatch: number;
  /** How long the oldest waiting row may wait for company before a partial batch runs. */
  maxWaitMs: number;
  /** Most rows waiting (not counting the batch running); beyond it submit refuses with OVERLOADED. */
  maxQueue: number;
  /** Seconds a refused client is told to wait (Retry-After); default 1. */
  retryAfterSeconds?: number;
  /** Told after every engine run (successful or not: `error` set then). */
  onBatch?: (report: BatchReport, error?: unknown) => void;
  /** Milliseconds clock; default performance.now. */
  now?: () => number;
}

export interface Batcher {
  /** Queue one image; resolves with its result once its batch has run. */
  submit(row: BatchRow, signal?: AbortSignal): Promise<BatchedResult>;
  /** Throws OVERLOADED (or SHUTTING_DOWN) now if `rows` more would not be accepted. */
  checkCapacity(rows: number): void;
  /** Rows waiting for a batch. */
  readonly depth: number;
  /** Rows in the engine run in progress. */
  readonly running: number;
  /** Refuse new rows, run everything queued, resolve when idle. Idempotent. */
  drain(): Promise<void>;
}

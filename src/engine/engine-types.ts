/** Types of the stage-wise early-exit engine. */
import type { Bundle, ExecutionProviderName, Manifest } from '../config';
import type { EarlyExitGraph } from './early-exit-graph';

export interface EngineOptions {
  /** Threads inside one operator; default the usable cores (`os.availableParallelism()` capped by the cgroup's CPU quota). */
  intraOpThreads?: number;
  /** Threads across independent operators (sequential mode uses 1); default 1. */
  interOpThreads?: number;
  /** 'cpu' (default), or 'cuda' when the installed runtime has it (else cpu, with one log line). */
  executionProvider?: ExecutionProviderName;
  /**
   * onnxruntime's graph optimisation level, default 'all'. 'all' includes the
   * blocked NCHWc conv layout, which each stage boundary must undo and redo
   * (benchmarks/stage-overhead.ts measures what that costs).
   */
  graphOptimization?: 'all' | 'extended' | 'basic' | 'disabled';
  /**
   * Intra-op threads of a second set of CPU sessions that runs batches of one row of a small network
   * (SMALL_NETWORK_MACS), default 1; 0 runs them on the batch sessions. One row's small kernels gain
   * nothing from a second thread and lose to its start and join (measured on 2 cores, batch 1, the
   * Fashion-MNIST models: 15-25% less wall time and 35-40% less CPU with one thread, stage chain and
   * full model alike). Opened only when `intraOpThreads` is larger.
   */
  singleRowThreads?: number;
  /**
   * auto: open the bundle's one-graph early-exit network too (when it has one);
   * stages: only the stage chain; full: the network without exits (full.onnx) as well.
   */
  graph?: 'auto' | 'stages' | 'full';
}

export interface EngineLogger {
  warn(message: string): void;
}

/**
 * Called after each stage with the logits of the rows that ran it.
 * `logits` is rows.length x K, row-major; `rows` are the original row ids.
 * Returns, per row, 1/true where that row leaves at this exit. At the last
 * exit every row leaves and the answer is ignored.
 */
export type OnExit = (exit: number, logits: Float32Array, rows: Int32Array) => Uint8Array | readonly boolean[] | void;

export interface StageTiming {
  /** 0-based stage (= exit) index. */
  stage: number;
  /** Rows this stage ran on (0 when every row had left before it). */
  rows: number;
  /** Wall time of the stage's session.run, milliseconds. */
  ms: number;
  /** Time gathering the survivors' features after this stage, milliseconds. */
  gatherMs: number;
}

export interface EngineRunResult {
  batchSize: number;
  classes: number;
  /** Per original row: the 0-based exit it left at. */
  exits: Int32Array;
  /** Per original row: the logits of its exit; row i is `logits.subarray(i * classes, (i + 1) * classes)`. */
  logits: Float32Array;
  /** One entry per stage, in order. */
  stages: StageTiming[];
}

export interface Engine {
  readonly bundle: Bundle;
  readonly manifest: Manifest;
  /** The provider actually in use (after any fallback). */
  readonly executionProvider: ExecutionProviderName;
  readonly stageCount: number;
  readonly classes: number;
  /** C, H, W of one input image. */
  readonly inputShape: readonly [number, number, number];
  /** C * H * W: floats per image. */
  readonly imageSize: number;
  run(input: Float32Array, batchSize: number, onExit: OnExit, signal?: AbortSignal): Promise<EngineRunResult>;
  /** The whole early-exit network as one graph that routes rows itself, when opened (graph: auto). */
  readonly earlyExit: EarlyExitGraph | undefined;
  /** The network without exits in one call: batch x K logits of the last exit (graph: full). */
  readonly runFull: ((input: Float32Array, batchSize: number) => Promise<Float32Array>) | undefined;
  /** Runs every stage once per batch size (default [1]) so first requests are not slow. */
  warmup(batchSizes?: readonly number[]): Promise<void>;
  dispose(): Promise<void>;
}

import { BatchRouter, type RowRequest } from './route-batch';
import type { ModelRuntime } from './model-runtime';
import type { ImageResult } from './results';

export interface StageTiming {
  /** 1-based stage. */
  stage: number;
  rows: number;
  seconds: number;
}

export interface BatchOutcome {
  results: ImageResult[];
  stages: StageTiming[];
  inferenceSeconds: number;
}

/**
 * Run a batch (`input`: rows.length images, NCHW) through the stages, each
 * row leaving where its policy and ledger say.
 */
export async function runBatch(
  runtime: ModelRuntime,
  input: Float32Array,
  rows: RowRequest[],
  signal?: AbortSignal,
): Promise<BatchOutcome> {
  const router = new BatchRouter(rows, runtime.costs, runtime.labels);
  const start = performance.now();
  const run = await runtime.engine.run(input, rows.length, router.onExit, signal);
  const inferenceSeconds = (performance.now() - start) / 1000;
  return {
    results: router.finish(run.exits, run.logits, runtime.macs),
    stages: run.stages.map((s) => ({ stage: s.stage + 1, rows: s.rows, seconds: (s.ms + s.gatherMs) / 1000 })),
    inferenceSeconds,
  };
}

/** batching/: the dynamic batcher between the callers (HTTP, CLI) and a run function; it imports nothing of models. */
export type { Admission, BatchInput, Batched, Batcher, BatcherOptions, BatchReport, RowTimings, RunBatch } from './batcher-types';
export { createBatcher } from './dynamic-batcher';

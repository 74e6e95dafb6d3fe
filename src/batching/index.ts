/** batching/: the dynamic batcher between the callers (HTTP, CLI) and a run function; it imports nothing of models. */
export type { BatchInput, Batcher, BatcherOptions, BatchReport, RunBatch } from './batcher-types';
export { createBatcher } from './dynamic-batcher';

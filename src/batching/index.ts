/** batching/: the dynamic batcher between the callers (HTTP, CLI) and a run function; it imports nothing of models. */
export type { BatchInput, BatcherOptions, BatchReport, RunBatch } from './batcher-types';
export { createBatcher } from './dynamic-batcher';
/** @internal For the tests. */
export { type Batcher, type Party } from './batcher-types';

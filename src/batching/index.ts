/** batching/: the per-model dynamic batcher between the HTTP layer and the engine. */
export type { BatchedResult, Batcher, BatcherOptions, BatchReport, BatchRow, RowTimings } from './batcher-types';
export { createBatcher } from './dynamic-batcher';

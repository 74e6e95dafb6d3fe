/** The path of an image, composed: preprocess -> stage-wise engine with the router deciding exits -> results. Used by the CLI and the server. */
export type { BudgetChoice, BudgetRequest } from './budget-choice';
export { BudgetChooser } from './budget-choice';
export type { CostUnit, ModelRuntime, RuntimeOptions } from './model-runtime';
export { loadModelRuntime } from './model-runtime';
export type { RowRequest } from './route-batch';
export { BatchRouter } from './route-batch';
export type { BatchOutcome, StageTiming } from './run-batch';
export { runBatch } from './run-batch';
export type { ClassifyBatchReport, ClassifyOptions, ImageOutcome, PreparedBatch } from './classify-images';
export { classifyImages, classifyPrepared, prepareBatch } from './classify-images';
export type { ImageResult, TopKEntry, TraceEntry } from './results';
export { topK } from './results';

/** config/: the only module that parses YAML. Every file it loads becomes a typed, validated object. */
export type {
  ColorSpace,
  ExitSpec,
  InputSpec,
  Manifest,
  OutputsRef,
  ResizeFit,
  ReferenceSpec,
  StageSpec,
  TensorSpec,
} from './manifest-types';
export { loadBundle, sha256File, MANIFEST_FILE, type Bundle, type LoadBundleOptions } from './bundle';
export { manifestSchema } from './manifest-schema';
export {
  readExitOutputs,
  decodeExitOutputs,
  readBundleOutputs,
  type ExitOutputs,
  type ReadBundleOutputsOptions,
} from './exit-outputs-file';
export {
  loadBudgetPolicy,
  writeBudgetPolicy,
  budgetPolicySchema,
  DEFAULT_BETA,
  DEFAULT_SCORE,
  type BudgetPolicy,
  type CostUnit,
  type LedgerPolicy,
  type ScoreName,
} from './budget-policy';
export {
  loadServeConfig,
  parseServeConfig,
  defaultServeConfig,
  DEFAULT_MODEL_PATH,
  type BatchingConfig,
  type EngineConfig,
  type ExecutionProviderName,
  type LimitsConfig,
  type ServeConfig,
  type ServedModel,
} from './serve-config';
export { SchemaIssue, parseWithSchema, type Schema } from './schema';

/** config/: the only module that parses YAML. Every file it loads becomes a typed, validated object; every default lives here. */
export { COST_UNITS, DEFAULTS, SCORE_KINDS, costUnitLabel, type CostUnit, type ScoreKind } from './defaults';
export { checkBudgetSpec, describeBudget, formatCost, parseBudget, MAX_BUDGET_FRACTION, MAX_BUDGET_MACS, type BudgetSpec } from './budget-spec';
export { parseInputSpec, type ColorSpace, type InputSpec, type ResizeFit } from './input-spec';
export type { EarlyExitSpec, ExitSpec, Manifest, OutputsRef, ReferenceSpec, StageSpec, TensorSpec } from './manifest-schema';
export { isBundleDir, loadBundle, sha256File, type Bundle } from './bundle';
export { decodeExitOutputs, readBundleOutputs, readExitOutputs, type ExitOutputs } from './exit-outputs-file';
export { loadBudgetPolicy, writeBudgetPolicy, type BudgetPolicy, type Guarantee } from './budget-policy';
export {
  defaultServeConfig,
  loadServeConfig,
  parseServeConfig,
  type BatchingConfig,
  type EngineConfig,
  type ExecutionProviderName,
  type LimitsConfig,
  type MonitorConfig,
  type ServeConfig,
  type ServedModel,
} from './serve-config';

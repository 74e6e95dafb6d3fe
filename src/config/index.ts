/** config/: the only module that parses YAML. Every file it loads becomes a typed, validated object; every default lives here. */
export { DEFAULTS, costUnitLabel, type CostUnit } from './defaults';
export { expectedText, onSurface, parseSurface, surfaceName, type OptionSpec, type OptionValues, type Surface } from './options';
export { checkBudgetSpec, describeBudget, formatCost, type BudgetSpec } from './budget-spec';
export { usableCores } from './usable-cores';
export { parseInputSpec, type InputSpec } from './input-spec';
export type { Manifest, StageSpec, TensorSpec } from './manifest-schema';
export { isBundleDir, loadBundle, type Bundle } from './bundle';
export { readBundleOutputs, type ExitOutputs } from './exit-outputs-file';
export { readLearnedScoreFile, writeLearnedScoreFile } from './learned-score-file';
export { loadBudgetPolicy, writeBudgetPolicy, type BudgetPolicy } from './budget-policy';
export {
  defaultServeConfig,
  loadServeConfig,
  type BatchingConfig,
  type EngineConfig,
  type ExecutionProviderName,
  type LimitsConfig,
  type ServeConfig,
  type ServedModel,
} from './serve-config';
/** @internal For the tests. */
export { parseBudget } from './budget-spec';
/** @internal For the tests. */
export { readExitOutputs } from './exit-outputs-file';
/** @internal For the tests. */
export { parseBudgetPolicy } from './budget-policy';
/** @internal For the tests. */
export { parseServeConfig } from './serve-config';
/** @internal For the tests. */
export { cgroupCpuQuota, usableCoresFrom } from './usable-cores';

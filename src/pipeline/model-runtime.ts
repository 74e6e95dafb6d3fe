import { loadBundle, readBundleOutputs, type Bundle, type EngineConfig, type Manifest } from '../config';
import { EeroError } from '../errors';
import { createEngine, profileStages, type Engine, type EngineLogger } from '../engine';
import { createPreprocessor, type Preprocessor } from '../preprocess';
import { DEFAULT_BETA, ThresholdCache, type ExitOutputs, type ScoreKind, type BudgetSpec } from '../router';
import { BudgetChooser } from './budget-choice';

export type CostUnit = 'macs' | 'seconds';

export interface RuntimeOptions {
  engine?: Partial<EngineConfig>;
  /** Cost the router optimises: MACs from the manifest, or seconds measured here at load. */
  costUnit?: CostUnit;
  /** Batch size the `seconds` profile measures at (the serving batch size). */
  profileBatch?: number;
  defaultBudget?: BudgetSpec;
  defaultScore?: ScoreKind;
  defaultBeta?: number;
  ledger?: boolean;
  verify?: boolean;
  logger?: EngineLogger;
}

/** One loaded model: bundle, sessions, calibration, and the budget -> policy machinery. */
export interface ModelRuntime {
  readonly name: string;
  readonly bundle: Bundle;
  readonly manifest: Manifest;
  readonly labels: readonly string[];
  readonly engine: Engine;
  readonly preprocessor: Preprocessor;
  /** Cumulative MACs per exit (manifest). */
  readonly macs: Float64Array;
  /** Cumulative cost per exit in `costUnit` (what the router and ledger use). */
  readonly costs: Float64Array;
  readonly costUnit: CostUnit;
  /** Measured cumulative seconds per image per exit, when profiled. */
  readonly seconds: Float64Array | undefined;
  readonly calibration: ExitOutputs;
  readonly budgets: BudgetChooser;
  dispose(): Promise<void>;
}

export async function loadModelRuntime(dir: string, options: RuntimeOptions = {}): Promise<ModelRuntime> {
  const bundle = await loadBundle(dir, { verify: options.verify ?? true });
  const manifest = bundle.manifest;
  const preprocessor = createPreprocessor(manifest.input);
  const [engine, calibration] = await Promise.all([
    createEngine(bundle, options.engine ?? {}, options.logger ? { logger: options.logger } : {}),
    readBundleOutputs(bundle, 'calibration', { verify: options.verify ?? true }),
  ]);
  try {
    const macs = Float64Array.from(manifest.exits.map((e) => e.macs));
    const costUnit = options.costUnit ?? 'macs';
    let seconds: Float64Array | undefined;
    if (costUnit === 'seconds') {
      const profile = await profileStages(engine, options.profileBatch ?? 32);
      seconds = Float64Array.from(profile.exitSeconds);
    }
    const costs = costUnit === 'seconds' ? (seconds as Float64Array) : macs;
    const cache = new ThresholdCache({ calibration, costs, costUnit: costUnit === 'macs' ? 'MACs' : 'seconds' });
    const budgets = new BudgetChooser(cache, calibration, costs, macs, costUnit === 'macs' ? 'MACs' : 'seconds', {
      budget: options.defaultBudget ?? { fraction: 0.5 },
      ledger: options.ledger ?? true,
      score: options.defaultScore ?? 'margin',
      beta: options.defaultBeta ?? DEFAULT_BETA,
    });
    // Fail at start-up, not on the first request, when the default budget is infeasible.
    budgets.choose({ ledger: false });
    return {
      name: manifest.name,
      bundle,
      manifest,
      labels: manifest.labels,
      engine,
      preprocessor,
      macs,
      costs,
      costUnit,
      seconds,
      calibration,
      budgets,
      dispose: () => engine.dispose(),
    };
  } catch (e) {
    await engine.dispose();
    throw e instanceof EeroError ? e : new EeroError('MODEL_INVALID', `${dir}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * One model, loaded: the bundle's engine and preprocessor, what its exits
 * cost, and its routing (budget, ledger, thresholds). Users take the piece
 * they need; nothing here runs an image (see classifier.ts).
 */
import {
  DEFAULTS,
  loadBudgetPolicy,
  loadBundle,
  readBundleOutputs,
  readLearnedScoreFile,
  type BudgetSpec,
  type CostUnit,
  type EngineConfig,
  type Manifest,
} from '../config';
import { batchSizesUpTo, createEngine, exitSecondsAt, profileBatchTimes, type Engine, type EngineLogger } from '../engine';
import { EeroError } from '../errors';
import { validateLearnedParams, type LearnedParams } from '../router';
import { createPreprocessor, type Preprocessor } from '../preprocess';
import { modelCosts, type ModelCosts } from './model-costs';
import { choosePaths, type PathChoice, type PathOption } from './path-choice';
import { createDerivationLimiter } from './derivation-limiter';
import { ModelRouting, type DerivationEvent } from './model-routing';
import { ROUTING_OPTIONS } from './options/routing-options';
import { routingFromPolicy, type RoutingRequest } from './routing-request';

/** How the operator serves a model: from `serve.yaml`, `--budget`/`--policy` flags, or both. */
export interface ModelSettings {
  /** B; default: the policy file's budget, else 0.5 of the full model. */
  budget?: BudgetSpec;
  /** A budgets/*.yaml policy: routing rule, score, beta, cost unit, ledger, and B unless `budget` is given. */
  policyFile?: string;
  /** Default true, or the policy file's `ledger.enabled`; false here wins. */
  ledger?: boolean;
  /** Default: the policy's, else macs. */
  costUnit?: CostUnit;
  /** Routing defaults from flags, over the policy file's. */
  routing?: RoutingRequest;
  /** Measure each stage's time at load (deadlines use it); always done for the seconds unit. */
  profile?: boolean;
  /** The serving batch: the seconds unit is measured at it, deadlines at a few sizes up to it. */
  profileBatch?: number;
}

export interface LoadOptions {
  engine?: Partial<EngineConfig>;
  /** Milliseconds clock of the per-client limit on new routing rules (default performance.now). */
  clock?: () => number;
  /** Told about each new expensive routing rule (metrics). */
  onDerivation?: (event: DerivationEvent) => void;
  logger?: EngineLogger;
  /** Check every bundle file's sha256 (default true). */
  verify?: boolean;
  /** How a batch picks the one graph or the stage chain: measured at load, or given (default: path-choice.ts's rule). */
  paths?: PathOption;
}

export interface LoadedModel {
  readonly name: string;
  readonly manifest: Manifest;
  readonly labels: readonly string[];
  readonly engine: Engine;
  readonly preprocessor: Preprocessor;
  readonly costs: ModelCosts;
  readonly routing: ModelRouting;
  /** From how many rows a batch takes the one graph. */
  readonly paths: PathChoice;
  /** Where the routing defaults came from ("budget 50%", "policy p (file)"). */
  readonly source: string;
  dispose(): Promise<void>;
}

interface Resolved {
  budget: BudgetSpec;
  ledger: boolean;
  costUnit: CostUnit;
  defaults: RoutingRequest;
  source: string;
}

/** A policy file and flags, merged once: the one reading of them for serve and classify. */
async function resolveSettings(settings: ModelSettings, manifest: Manifest): Promise<Resolved> {
  const flags = settings.routing ?? {};
  if (settings.policyFile === undefined) {
    const budget = settings.budget ?? { fraction: DEFAULTS.budgetFraction };
    return {
      budget,
      ledger: settings.ledger ?? true,
      costUnit: settings.costUnit ?? 'macs',
      defaults: flags,
      source: flags.source ?? 'flags',
    };
  }
  const file = settings.policyFile;
  const policy = await loadBudgetPolicy(file, ROUTING_OPTIONS);
  if (policy.model !== manifest.name) {
    throw new EeroError(
      'CONFIG_INVALID',
      `${file}: model: the policy was made for ${JSON.stringify(policy.model)}, the bundle is ${JSON.stringify(manifest.name)}`,
      {
        details: { file, field: 'model' },
      },
    );
  }
  const fromFile = routingFromPolicy(policy, file);
  const { budget: fileBudget, thresholds, ...rule } = fromFile;
  // The schema holds exactly one of budget and budgetMacs, so the file always has one.
  const budget: BudgetSpec = settings.budget ?? fileBudget ?? { fraction: DEFAULTS.budgetFraction };
  // Pinned thresholds were calibrated for the file's own budget, score and beta: any other one recomputes them.
  const sameBudget = JSON.stringify(budget) === JSON.stringify(fileBudget);
  const sameScoring = (flags.score ?? rule.score) === rule.score && (flags.beta ?? rule.beta) === rule.beta;
  const pinned = thresholds !== undefined && sameBudget && sameScoring ? { thresholds } : {};
  return {
    budget,
    ledger: settings.ledger === false ? false : policy.ledger.enabled,
    costUnit: settings.costUnit ?? policy.costUnit,
    defaults: { ...rule, ...pinned, ...flags },
    source: fromFile.source ?? file,
  };
}

/** The learned score's params, checked against the bundle: a mismatch fails at load, naming the file and the field. */
function learnedParamsOf(f: { file: string; params: unknown }, manifest: Manifest): LearnedParams {
  try {
    return validateLearnedParams(f.params, manifest.stages.length, manifest.labels.length);
  } catch (e) {
    const err = e as EeroError;
    throw new EeroError('MODEL_INVALID', `${f.file}: ${err.message}`, { cause: e, details: { file: f.file, ...err.details } });
  }
}

export async function loadModel(dir: string, settings: ModelSettings = {}, options: LoadOptions = {}): Promise<LoadedModel> {
  const verify = options.verify ?? true;
  const bundle = await loadBundle(dir, { verify });
  const { manifest } = bundle;
  const resolved = await resolveSettings(settings, manifest);
  const preprocessor = createPreprocessor(manifest.input);
  const [engine, calibration, learnedFile] = await Promise.all([
    createEngine(bundle, options.engine ?? {}, options.logger ? { logger: options.logger } : {}),
    readBundleOutputs(bundle, 'calibration', { verify }),
    readLearnedScoreFile(bundle, { verify }),
  ]);
  try {
    const measure = settings.profile === true || resolved.costUnit === 'seconds';
    // A few batch sizes up to the serving one: deadlines plan with them, the seconds unit is the serving size's.
    const batch = settings.profileBatch ?? 32;
    const times = measure ? await profileBatchTimes(engine, batchSizesUpTo(batch)) : undefined;
    const costs = modelCosts(manifest, resolved.costUnit, times && exitSecondsAt(times.stages, batch), times);
    const paths = await choosePaths(engine, options.paths);
    const routing = new ModelRouting({
      calibration,
      costs,
      budget: resolved.budget,
      ledger: resolved.ledger,
      defaults: resolved.defaults,
      limiter: createDerivationLimiter(options.clock ?? (() => performance.now())),
      ...(learnedFile ? { learned: learnedParamsOf(learnedFile, manifest) } : {}),
      ...(options.onDerivation ? { onDerivation: options.onDerivation } : {}),
    });
    if (engine.runFull && routing.limitFraction < 1) {
      throw new EeroError(
        'CONFIG_INVALID',
        `${dir}: engine graph "full" runs every image to the end: serve it at budget 1, not ${routing.limitFraction}`,
        {
          details: { field: 'engine.graph' },
        },
      );
    }
    return {
      name: manifest.name,
      manifest,
      labels: manifest.labels,
      engine,
      preprocessor,
      costs,
      routing,
      paths,
      source: resolved.source,
      dispose: () => engine.dispose(),
    };
  } catch (e) {
    await engine.dispose();
    throw e instanceof EeroError ? e : new EeroError('MODEL_INVALID', `${dir}: ${(e as Error).message}`, { cause: e });
  }
}

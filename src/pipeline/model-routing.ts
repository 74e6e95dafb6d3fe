/**
 * A served model's routing: its budget B and ledger, and the exit policy
 * each request gets. Requests may only ask for less than B; every image is
 * charged to the one ledger. Thresholds come from a versioned calibration
 * state that a label-free recalibration swaps whole.
 */
import { describeBudget, formatCost, type BudgetSpec, type ExitOutputs } from '../config';
import { EeroError } from '../errors';
import {
  assertFeasibleBudget,
  BudgetLedger,
  calibrateLearnedPrepared,
  calibrateAccuracyTarget,
  calibrateCertified,
  certifiedSamplesNeeded,
  computeExitScores,
  makeThresholdPolicy,
  prepareLearned,
  resolveBudget,
  resolveScoring,
  ThresholdCache,
  type ExitPolicy,
  type LearnedParams,
  type PreparedLearned,
  type ScoredOutputs,
  type ScoreKind,
} from '../router';
import { createDerivationLimiter, LOCAL_CLIENT, type DerivationLimiter, type RuleAsker } from './derivation-limiter';
import type { ModelCosts } from './model-costs';
import type { RoutingRequest } from './routing-request';

export type RoutingRule = 'eero' | 'pinned' | 'accuracy-target' | 'certified' | 'learned';

export interface RouteChoice {
  policy: ExitPolicy;
  rule: RoutingRule;
  /** b, in cost units. */
  budget: number;
  /** b as a fraction of the full model. */
  fraction: number;
  deadlineMs: number | undefined;
  /** A certified rule's answers the ledger or a deadline would force early: returned marked not certified (else refused). */
  allowUncertified: boolean;
  /** The thresholds' version (1 at load, +1 per recalibration). */
  version: number;
}

/** What a recalibration did. */
export interface Recalibration {
  version: number;
  /** Rules derived anew on the new calibration. */
  rebuilt: number;
  /** Certified rules kept as they were: the new calibration holds fewer images than their guarantee needs. */
  kept: Array<{ rule: string; samplesNeeded: number }>;
}

/** Told each time a client asks for a rule that must be computed: computed, refused (limit), or kept over a recalibration. */
export type DerivationEvent = 'computed' | 'refused' | 'kept';

export interface ModelRoutingOptions {
  calibration: ExitOutputs;
  costs: ModelCosts;
  /** The operator's budget B. */
  budget: BudgetSpec;
  ledger: boolean;
  /** Routing for requests that name none: score, beta, and a policy file's rule. */
  defaults: RoutingRequest;
  /** How often each client may make the model compute a new expensive rule (default: 4 per 10 s per client). */
  limiter?: DerivationLimiter;
  onDerivation?: (event: DerivationEvent) => void;
  /** The bundle's fitted learned score (its learned-score file); without it `score=learned` is refused. */
  learned?: LearnedParams;
}

/** Monitored images a recalibration needs to refit the learned score's weights (fewer: only its threshold is re-picked). */
export const LEARNED_REFIT_MIN_SAMPLES = 2000;

interface CalibrationState {
  version: number;
  calibration: ExitOutputs;
  cache: ThresholdCache;
  /** Policies that depend only on (rule, score, target): computed once per state, and again after a recalibration. */
  derived: Map<string, Derived>;
  /**
   * The calibration scored by the learned score with these params, for the rules derived on it (the
   * other scores' scoring is the cache's). Scoring is most of a new rule's work (measured: 24 of 41 ms
   * for a certificate on 5,000 images).
   */
  learnedScored: { params: LearnedParams; scored: ScoredOutputs } | undefined;
  pinned: ExitPolicy | undefined;
  /** The learned score on this calibration (fitted params, its scores), prepared on first use. */
  learned: { params: LearnedParams; refit: boolean; prepared?: PreparedLearned; byBudget: Map<string, ExitPolicy> } | undefined;
}

interface Derived {
  policy: ExitPolicy;
  /** The rule computed on another calibration state (a recalibration rebuilds it so). */
  make: (state: CalibrationState) => ExitPolicy;
  /** Calibration images the rule's guarantee needs (certified rules). */
  samplesNeeded: number;
}

/** Rules kept across recalibrations at most (oldest asked for first out). */
const MAX_DERIVED = 256;

export class ModelRouting {
  /** B in cost units, and as a fraction of the full model. */
  readonly limit: number;
  readonly limitFraction: number;
  readonly ledger: BudgetLedger | undefined;
  private state: CalibrationState;
  private readonly limiter: DerivationLimiter;
  /** The recalibration under way: another waits for it. */
  private recalibrating: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ModelRoutingOptions) {
    const { costs } = options;
    this.limit = resolveBudget(options.budget, costs.costs, costs.macs);
    this.limitFraction = this.limit / costs.full;
    assertFeasibleBudget(costs.costs, this.limit, costs.unitLabel);
    this.ledger = options.ledger ? new BudgetLedger({ budget: this.limit, costs: costs.costs, costUnit: costs.unitLabel }) : undefined;
    this.limiter = options.limiter ?? createDerivationLimiter(() => performance.now());
    this.state = this.newState(options.calibration, 1, options.learned && { params: options.learned, refit: false });
    // Fail at start-up, not on the first request, when the default routing cannot be served.
    this.choose({});
  }

  /** The routing for requests that name none (flags over a policy file's). */
  get defaults(): Readonly<RoutingRequest> {
    return this.options.defaults;
  }

  /** The agreement with the full model the default routing certifies (a policy's `guarantee`), if any. */
  get certifiedAgreement(): number | undefined {
    return this.options.defaults.guarantee?.agreement;
  }

  /** Calibration images a recalibration needs before it may replace the default rule's certificate (0 when not certified). */
  get samplesNeeded(): number {
    const g = this.options.defaults.guarantee;
    return g === undefined ? 0 : certifiedSamplesNeeded(g);
  }

  get version(): number {
    return this.state.version;
  }

  get calibration(): ExitOutputs {
    return this.state.calibration;
  }

  /**
   * The policy for a request (fields it leaves out come from the model's defaults). A rule not yet
   * computed counts against `client`'s limit of new rules.
   */
  choose(request: RoutingRequest, client: string = LOCAL_CLIENT, address?: string): RouteChoice {
    const { costs } = this.options;
    const defaults = this.options.defaults;
    const b = request.budget === undefined ? this.limit : resolveBudget(request.budget, costs.costs, costs.macs);
    if (b > this.limit * (1 + 1e-12)) throw this.aboveLimit(request.budget as BudgetSpec, b);
    assertFeasibleBudget(costs.costs, b, costs.unitLabel);
    const ownRule = request.guarantee !== undefined || request.accuracyTarget !== undefined;
    const reroutes = request.budget !== undefined || request.score !== undefined || request.beta !== undefined;
    // A request that only narrows the budget is routed by EERO at its b; the policy file's rule holds for B itself.
    const merged: RoutingRequest = ownRule || reroutes ? { ...pick(defaults), ...request } : { ...defaults, ...request };
    const { policy, rule } = this.policyFor(merged, b, { client, address });
    return {
      policy,
      rule,
      budget: b,
      fraction: b / costs.full,
      deadlineMs: request.deadlineMs ?? defaults.deadlineMs,
      allowUncertified: request.allowUncertified ?? defaults.allowUncertified ?? false,
      version: this.state.version,
    };
  }

  /**
   * Swap in thresholds from new calibration outputs (e.g. monitored traffic, agreement as the label).
   * Every rule clients asked for is rebuilt on them first, a few at a time between other work, while
   * the old ones keep serving; the swap is whole. A certified rule whose guarantee needs more images
   * than the new calibration holds is kept as it was (its certificate still holds for the old set).
   */
  recalibrate(calibration: ExitOutputs): Promise<Recalibration> {
    const run = this.recalibrating.then(() => this.rebuild(calibration));
    this.recalibrating = run.catch(() => undefined);
    return run;
  }

  private async rebuild(calibration: ExitOutputs): Promise<Recalibration> {
    const previous = this.state;
    // The learned score's threshold is re-picked on the new outputs; its weights are refitted when there are enough of them.
    const learned = previous.learned && {
      params: previous.learned.prepared?.params ?? previous.learned.params,
      refit: calibration.images >= LEARNED_REFIT_MIN_SAMPLES,
    };
    const next = this.newState(calibration, previous.version + 1, learned);
    const kept: Recalibration['kept'] = [];
    let rebuilt = 0;
    for (const [key, d] of previous.derived) {
      if (calibration.images < d.samplesNeeded) {
        next.derived.set(key, d);
        kept.push({ rule: key, samplesNeeded: d.samplesNeeded });
        this.options.onDerivation?.('kept');
        continue;
      }
      // One rule at a time, then the event loop: requests keep being answered by the old rules.
      await new Promise((resolve) => setImmediate(resolve));
      try {
        next.derived.set(key, { ...d, policy: d.make(next) });
        rebuilt++;
      } catch {
        // No longer derivable on the new outputs (e.g. infeasible): asked for again, it is computed then and says why.
      }
    }
    this.state = next;
    try {
      this.choose({});
    } catch (e) {
      this.state = previous;
      throw e;
    }
    return { version: next.version, rebuilt, kept };
  }

  private policyFor(request: RoutingRequest, b: number, asker: RuleAsker): { policy: ExitPolicy; rule: RoutingRule } {
    const { costs } = this.options;
    // The learned score brings its own rule (and the model its params): it is served before the others.
    if (request.score === 'learned' && request.guarantee === undefined && request.accuracyTarget === undefined) {
      return this.learnedPolicy(b, request.beta, asker);
    }
    // A certificate or an agreement target may be computed on the learned score too: it then needs the model's params.
    const params = request.score === 'learned' ? (this.state.learned?.prepared?.params ?? this.options.learned) : undefined;
    const score = resolveScoring({ score: request.score, params }).score;
    const withParams = params === undefined ? {} : { params };
    const state = this.state;
    if (request.guarantee !== undefined) {
      const guarantee = request.guarantee;
      const key = `certified|${score}|${request.beta ?? ''}|${JSON.stringify(guarantee)}|${b}`;
      const certify = (on: CalibrationState): ExitPolicy =>
        calibrateCertified(this.scoredOf(on, score, params), costs.costs, b, {
          guarantee,
          score,
          ...withParams,
          costUnit: costs.unitLabel,
          ...(request.beta === undefined ? {} : { beta: request.beta }),
        });
      return { policy: this.derived(key, certify, asker, certifiedSamplesNeeded(guarantee)), rule: 'certified' };
    }
    if (request.accuracyTarget !== undefined) {
      const target = request.accuracyTarget;
      const key = `agree|${score}|${target}`;
      return {
        policy: this.derived(
          key,
          (on) => calibrateAccuracyTarget(this.scoredOf(on, score, params), costs.costs, b, { target, score, ...withParams }),
          asker,
          0,
        ),
        rule: 'accuracy-target',
      };
    }
    // Pinned thresholds hold for the budget they were calibrated at, and only until a recalibration replaces the calibration.
    if (request.thresholds !== undefined && b === this.limit && state.version === 1) {
      if (request.thresholds.length !== costs.costs.length) {
        throw new EeroError(
          'CONFIG_INVALID',
          `${request.source ?? 'policy'}: ${request.thresholds.length} thresholds for ${costs.costs.length} exits`,
        );
      }
      // Pinned thresholds are not derived: they hold only for the calibration they came with (version 1).
      const pinned = makeThresholdPolicy('eero', Float64Array.from(request.thresholds), resolveScoring({ score }), b, {});
      return { policy: this.state.pinned ?? (this.state.pinned = pinned), rule: 'pinned' };
    }
    return { policy: state.cache.get(b, { score, beta: request.beta }), rule: 'eero' };
  }

  /**
   * The learned rule at b (the spend-matched global threshold, or EERO where that does not beat it), cached per
   * budget; a budget not yet asked for counts against the asker's limit of new rules.
   */
  private learnedPolicy(b: number, beta: number | undefined, asker: RuleAsker): { policy: ExitPolicy; rule: RoutingRule } {
    const learned = this.state.learned;
    if (learned === undefined) {
      throw new EeroError(
        'BAD_PARAMETER',
        'this model has no learned score: its bundle names no learned-score file (eero calibrate --fit-learned writes one); use score margin, maxprob or entropy',
        { details: { parameter: 'score' } },
      );
    }
    const calibration = this.state.calibration;
    learned.prepared ??= prepareLearned(calibration, learned.refit ? {} : { fitted: learned.params });
    const key = `${b}|${beta ?? ''}`;
    let policy = learned.byBudget.get(key);
    if (policy === undefined) {
      this.mayDerive(asker);
      policy = calibrateLearnedPrepared(learned.prepared, this.options.costs.costs, b, {
        costUnit: this.options.costs.unitLabel,
        ...(beta === undefined ? {} : { beta }),
      });
      if (learned.byBudget.size >= MAX_DERIVED) learned.byBudget.delete(learned.byBudget.keys().next().value as string);
      learned.byBudget.set(key, policy);
      this.options.onDerivation?.('computed');
    }
    return { policy, rule: policy.scoring.score === 'learned' ? 'learned' : 'eero' };
  }

  /** A rule computed once per calibration, at most `limiter`'s new rules per client; kept (and rebuilt) across recalibrations. */
  private derived(key: string, make: (state: CalibrationState) => ExitPolicy, asker: RuleAsker, samplesNeeded: number): ExitPolicy {
    const derived = this.state.derived;
    const have = derived.get(key);
    if (have) return have.policy;
    this.mayDerive(asker);
    const policy = make(this.state);
    this.options.onDerivation?.('computed');
    // Bounded: a flood of distinct targets evicts the oldest.
    if (derived.size >= MAX_DERIVED) derived.delete(derived.keys().next().value as string);
    derived.set(key, { policy, make, samplesNeeded });
    return policy;
  }

  /** Counts a new rule against the asker's limits, or refuses it. */
  private mayDerive({ client, address }: RuleAsker): void {
    if (this.limiter.tryDerive(client, address)) return;
    this.options.onDerivation?.('refused');
    throw new EeroError(
      'OVERLOADED',
      "too many new routing rules asked for by this client or its address (each new agreement, accuracy target, certificate or learned-score budget is computed on the service's event loop); retry shortly or reuse one",
      { details: { retryAfterSeconds: 5 } },
    );
  }

  /**
   * `on`'s calibration scored by `score`, computed once per state: the threshold cache's scoring (EERO
   * sorts the same scores), or with `params` the learned score's.
   */
  private scoredOf(on: CalibrationState, score: ScoreKind, params: LearnedParams | undefined): ScoredOutputs {
    if (params === undefined) return on.cache.scored(score);
    if (on.learnedScored?.params !== params) on.learnedScored = { params, scored: computeExitScores(on.calibration, { score, params }) };
    return on.learnedScored.scored;
  }

  private newState(calibration: ExitOutputs, version: number, learned?: { params: LearnedParams; refit: boolean }): CalibrationState {
    const { costs } = this.options;
    return {
      version,
      calibration,
      cache: new ThresholdCache({ calibration, costs: costs.costs, costUnit: costs.unitLabel }),
      derived: new Map(),
      learnedScored: undefined,
      pinned: undefined,
      learned: learned && { ...learned, byBudget: new Map() },
    };
  }

  private aboveLimit(asked: BudgetSpec, b: number): EeroError {
    const { costs } = this.options;
    return new EeroError(
      'BUDGET_ABOVE_LIMIT',
      `budget ${describeBudget(asked)} is above this model's limit ${+(100 * this.limitFraction).toPrecision(4)}% of the full model ` +
        `(${formatCost(this.limit)} ${costs.unitLabel}); ask for the limit or less`,
      {
        details: {
          limit: this.limit,
          limitFraction: this.limitFraction,
          requested: b,
          requestedFraction: b / costs.full,
          costUnit: costs.unitLabel,
        },
      },
    );
  }
}

/** The defaults that still apply when a request brings its own budget or rule: score, beta and how certified answers may be forced. */
function pick(defaults: RoutingRequest): RoutingRequest {
  return {
    ...(defaults.score ? { score: defaults.score } : {}),
    ...(defaults.beta !== undefined ? { beta: defaults.beta } : {}),
    ...(defaults.allowUncertified !== undefined ? { allowUncertified: defaults.allowUncertified } : {}),
  };
}

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
  calibrateAccuracyTarget,
  calibrateCertified,
  makeThresholdPolicy,
  resolveBudget,
  resolveScoring,
  ThresholdCache,
  type ExitPolicy,
} from '../router';
import type { ModelCosts } from './model-costs';
import type { RoutingRequest } from './routing-request';

export type RoutingRule = 'eero' | 'pinned' | 'accuracy-target' | 'certified';

export interface RouteChoice {
  policy: ExitPolicy;
  rule: RoutingRule;
  /** b, in cost units. */
  budget: number;
  /** b as a fraction of the full model. */
  fraction: number;
  deadlineMs: number | undefined;
  /** The thresholds' version (1 at load, +1 per recalibration). */
  version: number;
}

export interface ModelRoutingOptions {
  calibration: ExitOutputs;
  costs: ModelCosts;
  /** The operator's budget B. */
  budget: BudgetSpec;
  ledger: boolean;
  /** Routing for requests that name none: score, beta, and a policy file's rule. */
  defaults: RoutingRequest;
}

interface CalibrationState {
  version: number;
  calibration: ExitOutputs;
  cache: ThresholdCache;
  /** Policies that depend only on (rule, score, target): computed once per state. */
  derived: Map<string, ExitPolicy>;
}

export class ModelRouting {
  /** B in cost units, and as a fraction of the full model. */
  readonly limit: number;
  readonly limitFraction: number;
  readonly ledger: BudgetLedger | undefined;
  private state: CalibrationState;
  /** Asked before an expensive new rule (a certificate, an agreement target) is computed; false refuses it for now. */
  private mayDerive: () => boolean = () => true;

  constructor(private readonly options: ModelRoutingOptions) {
    const { costs } = options;
    this.limit = resolveBudget(options.budget, costs.costs, costs.macs);
    this.limitFraction = this.limit / costs.full;
    assertFeasibleBudget(costs.costs, this.limit, costs.unitLabel);
    this.ledger = options.ledger ? new BudgetLedger({ budget: this.limit, costs: costs.costs, costUnit: costs.unitLabel }) : undefined;
    this.state = this.newState(options.calibration, 1);
    // Fail at start-up, not on the first request, when the default routing cannot be served.
    this.choose({});
  }

  /** The agreement with the full model the default routing certifies (a policy's `guarantee`), if any. */
  get certifiedAgreement(): number | undefined {
    return this.options.defaults.guarantee?.agreement;
  }

  /** Bound how often clients may make the model compute a new rule (each costs seconds of CPU). */
  limitDerivations(mayDerive: () => boolean): void {
    this.mayDerive = mayDerive;
  }

  get version(): number {
    return this.state.version;
  }

  get calibration(): ExitOutputs {
    return this.state.calibration;
  }

  /** The policy for a request (fields it leaves out come from the model's defaults). */
  choose(request: RoutingRequest): RouteChoice {
    const { costs } = this.options;
    const defaults = this.options.defaults;
    const b = request.budget === undefined ? this.limit : resolveBudget(request.budget, costs.costs, costs.macs);
    if (b > this.limit * (1 + 1e-12)) throw this.aboveLimit(request.budget as BudgetSpec, b);
    assertFeasibleBudget(costs.costs, b, costs.unitLabel);
    const ownRule = request.guarantee !== undefined || request.accuracyTarget !== undefined;
    const reroutes = request.budget !== undefined || request.score !== undefined || request.beta !== undefined;
    // A request that only narrows the budget is routed by EERO at its b; the policy file's rule holds for B itself.
    const merged: RoutingRequest = ownRule || reroutes ? { ...pick(defaults), ...request } : { ...defaults, ...request };
    const { policy, rule } = this.policyFor(merged, b);
    return {
      policy,
      rule,
      budget: b,
      fraction: b / costs.full,
      deadlineMs: request.deadlineMs ?? defaults.deadlineMs,
      version: this.state.version,
    };
  }

  /** Swap in thresholds from new calibration outputs (e.g. monitored traffic, agreement as the label). */
  recalibrate(calibration: ExitOutputs): number {
    const next = this.newState(calibration, this.state.version + 1);
    const previous = this.state;
    this.state = next;
    try {
      this.choose({});
    } catch (e) {
      this.state = previous;
      throw e;
    }
    return next.version;
  }

  private policyFor(request: RoutingRequest, b: number): { policy: ExitPolicy; rule: RoutingRule } {
    const { costs } = this.options;
    const score = resolveScoring({ score: request.score }).score;
    const state = this.state;
    if (request.guarantee !== undefined) {
      const guarantee = request.guarantee;
      const key = `certified|${score}|${request.beta ?? ''}|${JSON.stringify(guarantee)}|${b}`;
      const certify = (): ExitPolicy =>
        calibrateCertified(state.calibration, costs.costs, b, {
          guarantee,
          score,
          costUnit: costs.unitLabel,
          ...(request.beta === undefined ? {} : { beta: request.beta }),
        });
      return { policy: this.derived(key, certify, true), rule: 'certified' };
    }
    if (request.accuracyTarget !== undefined) {
      const target = request.accuracyTarget;
      const key = `agree|${score}|${target}`;
      return {
        policy: this.derived(key, () => calibrateAccuracyTarget(state.calibration, costs.costs, b, { target, score }), true),
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
      const key = `pinned|${score}`;
      return {
        policy: this.derived(key, () =>
          makeThresholdPolicy('eero', Float64Array.from(request.thresholds ?? []), resolveScoring({ score }), b, {}),
        ),
        rule: 'pinned',
      };
    }
    return { policy: state.cache.get(b, { score, beta: request.beta }), rule: 'eero' };
  }

  private derived(key: string, make: () => ExitPolicy, expensive = false): ExitPolicy {
    const have = this.state.derived.get(key);
    if (have) return have;
    if (expensive && !this.mayDerive()) {
      throw new EeroError(
        'OVERLOADED',
        'too many new routing rules asked for at once (each new agreement, accuracy or certificate costs seconds of compute); retry shortly or reuse one',
        {
          details: { retryAfterSeconds: 5 },
        },
      );
    }
    const policy = make();
    // Bounded: keys come from a few rules and targets; a flood of distinct targets evicts the oldest.
    if (this.state.derived.size >= 256) this.state.derived.delete(this.state.derived.keys().next().value as string);
    this.state.derived.set(key, policy);
    return policy;
  }

  private newState(calibration: ExitOutputs, version: number): CalibrationState {
    const { costs } = this.options;
    return {
      version,
      calibration,
      cache: new ThresholdCache({ calibration, costs: costs.costs, costUnit: costs.unitLabel }),
      derived: new Map(),
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

/** The defaults that still apply when a request brings its own budget or rule: score and beta only. */
function pick(defaults: RoutingRequest): RoutingRequest {
  return { ...(defaults.score ? { score: defaults.score } : {}), ...(defaults.beta !== undefined ? { beta: defaults.beta } : {}) };
}

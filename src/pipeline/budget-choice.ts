import { EeroError } from '../errors';
import {
  BudgetLedger,
  calibrateAccuracyTarget,
  type ExitOutputs,
  makeThresholdPolicy,
  parseBudget,
  resolveBudget,
  resolveScoring,
  type BudgetSpec,
  type ExitPolicy,
  type ScoreKind,
  type ThresholdCache,
} from '../router';

/** How one image is routed: the exit policy for its budget, and the live ledger that guards it. */
export interface BudgetChoice {
  /** Stable label for metrics and logs, e.g. "eero-0.5" or a budgets/*.yaml name. */
  name: string;
  policy: ExitPolicy;
  ledger: BudgetLedger | undefined;
  /** B in cost units. */
  budget: number;
  /** B as a fraction of the full cost. */
  fraction: number;
}

export interface BudgetRequest {
  /** A fraction (0.5, "50%") or MACs ("6e8", "600M"); undefined: the default. */
  budget?: string | number | BudgetSpec;
  score?: ScoreKind;
  beta?: number;
  ledger?: boolean;
  /** Pinned thresholds (from a budgets/*.yaml written by `eero calibrate`). */
  thresholds?: number[];
  /**
   * The accuracy-target rule instead of EERO: exit where the exit agrees with
   * the final one on at least this fraction of calibration images at this
   * confidence. The budget still bounds spending through the ledger.
   */
  accuracyTarget?: number;
  name?: string;
}

/**
 * Budget -> policy -> ledger, with a bounded map of live ledgers so that every
 * request naming the same budget shares one ledger (EERO.md "Beyond the papers").
 */
export class BudgetChooser {
  private readonly ledgers = new Map<string, BudgetLedger>();
  private readonly targetPolicies = new Map<string, ExitPolicy>();

  constructor(
    private readonly cache: ThresholdCache,
    private readonly calibration: ExitOutputs,
    private readonly costs: Float64Array,
    private readonly macs: Float64Array,
    private readonly costUnit: string,
    private readonly defaults: { budget: BudgetSpec; ledger: boolean; score: ScoreKind; beta: number },
    private readonly maxLedgers = 64,
  ) {}

  choose(req: BudgetRequest = {}): BudgetChoice {
    const spec: BudgetSpec =
      req.budget === undefined ? this.defaults.budget : typeof req.budget === 'object' ? req.budget : parseBudget(req.budget);
    const budget = resolveBudget(spec, this.costs, this.macs);
    const full = this.costs[this.costs.length - 1] as number;
    const score = req.score ?? this.defaults.score;
    const beta = req.beta ?? this.defaults.beta;
    if (!(beta > 0) || !Number.isFinite(beta)) throw new EeroError('BAD_PARAMETER', `beta must be a positive number, got ${beta}`);
    let policy: ExitPolicy;
    if (req.accuracyTarget !== undefined) {
      const t = req.accuracyTarget;
      if (!(t > 0 && t <= 1)) throw new EeroError('BAD_PARAMETER', `accuracy target must be in (0, 1], got ${t}`);
      const key = `${score}|${t}`;
      policy = this.targetPolicies.get(key) ?? calibrateAccuracyTarget(this.calibration, this.costs, budget, { target: t, score });
      this.targetPolicies.set(key, policy);
    } else if (req.thresholds) {
      if (req.thresholds.length !== this.costs.length) {
        throw new EeroError('BAD_PARAMETER', `policy has ${req.thresholds.length} thresholds for ${this.costs.length} exits`);
      }
      policy = makeThresholdPolicy('eero', Float64Array.from(req.thresholds), resolveScoring({ score }), budget, {});
    } else {
      policy = this.cache.get(budget, { score, beta });
    }
    const fraction = budget / full;
    const name = req.name ?? (req.accuracyTarget !== undefined ? `agree-${req.accuracyTarget}` : `${score}-${+fraction.toFixed(4)}`);
    const ledger = (req.ledger ?? this.defaults.ledger) ? this.ledgerFor(`${name}|${budget}`, budget) : undefined;
    return { name, policy, ledger, budget, fraction };
  }

  ledgerSnapshots(): Array<{ name: string; snapshot: ReturnType<BudgetLedger['snapshot']> }> {
    return [...this.ledgers].map(([key, l]) => ({ name: key.split('|')[0] ?? key, snapshot: l.snapshot() }));
  }

  private ledgerFor(key: string, budget: number): BudgetLedger {
    let l = this.ledgers.get(key);
    if (!l) {
      l = new BudgetLedger({ budget, costs: this.costs, costUnit: this.costUnit });
      if (this.ledgers.size >= this.maxLedgers) {
        // Evict the oldest idle ledger; per-request budgets must not grow memory without bound.
        for (const [k, v] of this.ledgers) {
          if (v.snapshot().inFlight === 0) {
            this.ledgers.delete(k);
            break;
          }
        }
      }
      this.ledgers.set(key, l);
    }
    return l;
  }
}

import { EeroError } from '../errors';
import { validateBudget, validateCosts } from './budget';
import type { ExitOutputs, ScoredOutputs } from './exit-outputs';
import { computeExitScores, exitErrorRates, sortedExitScores } from './exit-scores';
import type { EeroCalibration, EeroPolicy } from './eero';
import { DEFAULTS } from '../config';
import { calibrateEeroSorted, validateBeta, validateErrorRates } from './eero';
import { makeThresholdPolicy } from './policy';
import type { ScoreKind, ScoringOptions } from './scores';
import { resolveScoring } from './scores';

/**
 * Per-request budgets (docs/design.md): EERO thresholds for any budget, on
 * demand. The expensive part (softmax and scores of every calibration image,
 * then sorting) is done once per score kind; a new budget then costs the
 * weights, a bisection over M numbers and M binary searches.
 */
export interface ThresholdCacheOptions {
  calibration: ExitOutputs;
  costs: ArrayLike<number>;
  seed?: number;
  temperature?: number;
  /** R[l]; by default measured on the labelled calibration rows. */
  errorRates?: ArrayLike<number>;
  /** Entries kept (least recently used go first); default 256. */
  maxEntries?: number;
  /** Budgets are rounded DOWN to this fraction of the full cost; default 1e-6. */
  resolution?: number;
  costUnit?: string;
}

export interface ThresholdRequest {
  score?: ScoreKind;
  beta?: number;
}

interface Prepared {
  scoring: ScoringOptions;
  /** The calibration scored: kept, for the rules derived on the same outputs (ModelRouting's certificates). */
  scored: ScoredOutputs;
  sorted: Float64Array[];
}

export class ThresholdCache {
  private readonly costs: Float64Array;
  private readonly errorRates: Float64Array;
  private readonly maxEntries: number;
  private readonly resolution: number;
  private readonly prepared = new Map<ScoreKind, Prepared>();
  private readonly entries = new Map<string, EeroPolicy>();

  constructor(private readonly options: ThresholdCacheOptions) {
    const first = this.prepare(options.calibration, resolveScoring({ seed: options.seed, temperature: options.temperature }));
    this.costs = validateCosts(options.costs, options.calibration.exits);
    const r = options.errorRates ?? exitErrorRates(first);
    if (r === undefined) {
      throw new EeroError('BAD_PARAMETER', 'EERO needs per-exit error rates: pass errorRates or labelled calibration outputs');
    }
    this.errorRates = validateErrorRates(r, options.calibration.exits);
    this.maxEntries = Math.max(1, Math.floor(options.maxEntries ?? 256));
    this.resolution = options.resolution ?? 1e-6;
    if (!(this.resolution > 0 && this.resolution < 1)) {
      throw new EeroError('BAD_PARAMETER', `resolution must be in (0, 1), got ${this.resolution}`);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** The EERO policy for `budget` (cost units). */
  get(budget: number, request: ThresholdRequest = {}): EeroPolicy {
    validateBudget(budget);
    const beta = validateBeta(request.beta ?? DEFAULTS.beta);
    const scoring = resolveScoring({ score: request.score, seed: this.options.seed, temperature: this.options.temperature });
    const b = this.roundBudget(budget);
    const key = `${scoring.score}|${beta}|${b}`;
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      // Re-insert: a Map iterates in insertion order, so the first key is the LRU.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const { sorted } = this.preparedFor(scoring);
    const cal: EeroCalibration = calibrateEeroSorted(sorted, this.errorRates, this.costs, b, beta, this.options.costUnit);
    const policy = makeThresholdPolicy('eero', cal.thresholds, scoring, b, { calibration: cal }) as EeroPolicy;
    this.entries.set(key, policy);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return policy;
  }

  /**
   * Round down to `resolution` of the full cost, so nearby budgets share an
   * entry and the answer never spends more than asked. Budgets at or above
   * the full cost all behave alike (mu = 0). A budget just above cost[1]
   * must stay feasible, and one below it must stay infeasible.
   */
  roundBudget(budget: number): number {
    const full = this.costs[this.costs.length - 1] as number;
    const first = this.costs[0] as number;
    if (budget >= full) return full;
    if (budget < first) return budget;
    const step = full * this.resolution;
    return Math.max(first, Math.floor(budget / step) * step);
  }

  clear(): void {
    this.entries.clear();
  }

  /** The calibration scored by `score` (at the cache's seed and temperature), computed once per score. */
  scored(score?: ScoreKind): ScoredOutputs {
    return this.preparedFor(resolveScoring({ score, seed: this.options.seed, temperature: this.options.temperature })).scored;
  }

  private preparedFor(scoring: ScoringOptions): Prepared {
    const have = this.prepared.get(scoring.score);
    if (have !== undefined) return have;
    this.prepare(this.options.calibration, scoring);
    return this.prepared.get(scoring.score) as Prepared;
  }

  private prepare(calibration: ExitOutputs, scoring: ScoringOptions): ScoredOutputs {
    const scored = computeExitScores(calibration, scoring);
    this.prepared.set(scoring.score, { scoring, scored, sorted: sortedExitScores(scored) });
    return scored;
  }
}

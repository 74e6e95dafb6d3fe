import { validateCosts } from './budget';
import type { ExitOutputs, ScoredOutputs } from './exit-outputs';
import { ensureScored } from './exit-scores';
import { PoolSpender, type BudgetLedger } from './ledger';
import type { CalibrationData, ExitPolicy, RowState } from './policy';
import type { ScoringOptions } from './scores';
import { resolveScoring } from './scores';

/**
 * Simulation of a policy on a set of outputs (e.g. the test split): the
 * numbers every accuracy-vs-budget benchmark reports.
 */
export interface Evaluation {
  images: number;
  /** Rows with a label (>= 0); accuracy is over these. */
  labelled: number;
  /** NaN when no row is labelled. */
  accuracy: number;
  averageCost: number;
  /** averageCost / cost[M]. */
  costFraction: number;
  /** Images that left at each exit. */
  exitCounts: number[];
  exitShares: number[];
  /** Per row: the exit it left at (0-based) and what it predicted there. */
  exitOf: Int32Array;
  predictions: Int32Array;
  /** Exits the ledger forced (0 without a ledger). */
  forcedExits: number;
}

export interface EvaluateOptions {
  /**
   * Route through a budget ledger as the service does: rows in stream order,
   * `batch` at a time (default 1), each batch spending its reservation.
   */
  ledger?: BudgetLedger;
  batch?: number;
}

function summarise(scored: ScoredOutputs, costs: Float64Array, exitOf: Int32Array, forcedExits: number): Evaluation {
  const n = scored.images;
  const exitCounts = new Array<number>(scored.exits).fill(0);
  const predictions = new Int32Array(n);
  let cost = 0;
  let labelled = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const l = exitOf[i] as number;
    const p = (scored.predictions[l] as Int32Array)[i] as number;
    predictions[i] = p;
    exitCounts[l] = (exitCounts[l] as number) + 1;
    cost += costs[l] as number;
    const y = scored.labels[i] as number;
    if (y >= 0) {
      labelled++;
      if (p === y) correct++;
    }
  }
  const averageCost = cost / n;
  return {
    images: n,
    labelled,
    accuracy: labelled === 0 ? NaN : correct / labelled,
    averageCost,
    costFraction: averageCost / (costs[costs.length - 1] as number),
    exitCounts,
    exitShares: exitCounts.map((c) => c / n),
    exitOf,
    predictions,
    forcedExits,
  };
}

/**
 * Batched as the engine runs (docs/eero.md "Inference"): every row at exit 1,
 * then only the survivors at exit 2, and so on. With a ledger, rows go one
 * at a time instead, since the ledger's answer depends on the order.
 */
export function evaluatePolicy(
  policy: ExitPolicy,
  data: CalibrationData,
  costs: ArrayLike<number>,
  options: EvaluateOptions = {},
): Evaluation {
  const scored = ensureScored(data, policy.scoring);
  const c = validateCosts(costs, scored.exits);
  const exitOf = new Int32Array(scored.images);
  const states: RowState[] = Array.from({ length: scored.images }, (_, i) => policy.createRowState(i));
  const { ledger } = options;
  if (ledger === undefined) {
    let survivors = states.map((_, i) => i);
    for (let l = 0; l < scored.exits && survivors.length > 0; l++) {
      const s = scored.scores[l] as Float64Array;
      const p = scored.predictions[l] as Int32Array;
      survivors = survivors.filter((i) => {
        const leaves = policy.decideScored(l, s[i] as number, p[i] as number, states[i] as RowState);
        if (leaves) exitOf[i] = l;
        return !leaves;
      });
    }
    return summarise(scored, c, exitOf, 0);
  }
  const forcedBefore = ledger.snapshot().forcedExits;
  const batch = Math.max(1, Math.floor(options.batch ?? 1));
  for (let first = 0; first < scored.images; first += batch) {
    const rows = Array.from({ length: Math.min(batch, scored.images - first) }, (_, j) => first + j);
    const reservation = ledger.reserve(rows.length);
    const spender = new PoolSpender(reservation.pool, c, rows.length);
    let forced = 0;
    // Stage-major, as the engine runs a batch: every survivor decides at exit l before any goes to l + 1.
    let survivors = rows;
    for (let l = 0; l < scored.exits && survivors.length > 0; l++) {
      survivors = survivors.filter((i) => {
        const s = (scored.scores[l] as Float64Array)[i] as number;
        const p = (scored.predictions[l] as Int32Array)[i] as number;
        let leaves = policy.decideScored(l, s, p, states[i] as RowState);
        if (!leaves && !spender.mayContinue(l)) {
          leaves = true;
          forced++;
        }
        if (leaves) exitOf[i] = l;
        return !leaves;
      });
    }
    ledger.settle(
      reservation,
      rows.map((i) => c[exitOf[i] as number] as number),
      forced,
    );
  }
  return summarise(scored, c, exitOf, ledger.snapshot().forcedExits - forcedBefore);
}

/**
 * The upper bound: each image leaves at the first exit whose prediction is
 * right; if none is (or it has no label), at the last exit.
 */
export function oracle(data: ExitOutputs | ScoredOutputs, costs: ArrayLike<number>, scoring: Partial<ScoringOptions> = {}): Evaluation {
  const scored = ensureScored(data, resolveScoring('scores' in data ? { ...data.scoring, ...scoring } : scoring));
  const c = validateCosts(costs, scored.exits);
  const exitOf = new Int32Array(scored.images);
  for (let i = 0; i < scored.images; i++) {
    const y = scored.labels[i] as number;
    let l = 0;
    while (l < scored.exits - 1 && (scored.predictions[l] as Int32Array)[i] !== y) l++;
    exitOf[i] = l;
  }
  return summarise(scored, c, exitOf, 0);
}

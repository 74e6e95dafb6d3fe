/**
 * One engine run over a batch, with the ledger settled on every path: the
 * batch reserves its pool before the run, the rows settle at their real
 * exits after it, and a failed or aborted run returns the reservation.
 */
import type { BatchInput, RunBatch } from '../batching';
import { PoolSpender } from '../router';
import type { LoadedModel } from './loaded-model';
import type { ImageResult } from './results';
import { BatchRouter } from './route-batch';
import type { RowMeta } from './row-meta';

export interface StageTiming {
  /** 1-based stage. */
  stage: number;
  rows: number;
  seconds: number;
}

export interface RunReport {
  rows: number;
  stages: StageTiming[];
  /** Cost units the ledger lent the batch, and what it spent. */
  reserved: number;
  spent: number;
  ledgerForced: number;
}

export interface BatchRunnerOptions {
  /** Milliseconds clock (deadlines). */
  clock: () => number;
  /** Told after every successful run. */
  onRun?: (report: RunReport) => void;
  /** Told the rows and their answers while the batch's input is still valid (the monitor samples here). */
  onRows?: (input: Float32Array, metas: readonly RowMeta[], results: readonly ImageResult[]) => void;
}

/** Per row, the last exit (0-based) it may reach before its deadline, from the seconds measured at load. */
export function deadlineCaps(model: LoadedModel, metas: readonly RowMeta[], now: number): Int32Array {
  const last = model.costs.costs.length - 1;
  const seconds = model.costs.seconds;
  return Int32Array.from(metas, (m) => {
    if (m.choice.deadlineMs === undefined || seconds === undefined) return last;
    const leftMs = m.arrivedAt + m.choice.deadlineMs - now;
    // The batch runs its rows together: reaching exit l takes about rows x per-image seconds.
    let cap = 0;
    while (cap < last && (seconds[cap + 1] as number) * metas.length * 1000 <= leftMs) cap++;
    return cap;
  });
}

export function createBatchRunner(model: LoadedModel, options: BatchRunnerOptions): RunBatch<RowMeta, ImageResult> {
  const { costs, routing, engine, labels } = model;
  return async (batch: BatchInput<RowMeta>): Promise<ImageResult[]> => {
    const n = batch.metas.length;
    const caps = deadlineCaps(model, batch.metas, options.clock());
    const ledger = routing.ledger;
    const reservation = ledger?.reserve(n);
    const spender = new PoolSpender(reservation?.pool ?? Infinity, costs.costs, n);
    const router = new BatchRouter(batch.metas, caps, spender, labels, costs.costs.length, batch.signals);
    let run;
    try {
      run = await engine.run(batch.input, n, router.onExit);
    } catch (e) {
      if (reservation) ledger?.cancel(reservation);
      throw e;
    }
    const rowCosts = Array.from(run.exits, (l) => costs.costs[l] as number);
    if (reservation) ledger?.settle(reservation, rowCosts, router.ledgerForced);
    options.onRun?.({
      rows: n,
      stages: run.stages.map((s) => ({ stage: s.stage + 1, rows: s.rows, seconds: (s.ms + s.gatherMs) / 1000 })),
      reserved: reservation ? reservation.pool : 0,
      spent: rowCosts.reduce((a, c) => a + c, 0),
      ledgerForced: router.ledgerForced,
    });
    const results = router.finish(run.exits, run.logits, costs.costs, costs.macs);
    options.onRows?.(batch.input, batch.metas, results);
    return results;
  };
}

/** One batch straight through the engine and router, without a batcher (benchmarks, tests). */
export function runDirect(model: LoadedModel, input: Float32Array, choice: RowMeta['choice'], firstKey = 0, clock = (): number => performance.now()): Promise<ImageResult[]> {
  const n = input.length / model.preprocessor.imageLength;
  const metas = Array.from({ length: n }, (_, i): RowMeta => ({ choice, key: firstKey + i, topk: 1, trace: false, arrivedAt: clock() }));
  return createBatchRunner(model, { clock })({ input, metas, signals: [], queueMs: metas.map(() => 0) });
}

/**
 * One engine run over a batch, with the ledger settled on every path: the
 * batch reserves its pool before the run, the rows settle at their real
 * exits after it, and a failed or aborted run returns the reservation.
 */
import type { BatchInput, RunBatch } from '../batching';
import { PoolSpender, type Reservation } from '../router';
import { BufferPool, fullResults, graphGrant, runGraphBatch } from './graph-batch';
import { graphCanRoute } from './graph-can-route';
import type { LoadedModel } from './loaded-model';
import type { ImageResult } from './results';
import { ArrivalWindow, DeadlinePlanner, rowsPerStage } from './deadline-plan';
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
  /** Which engine ran the batch. */
  path: 'graph' | 'stages' | 'full';
}

export interface BatchRunnerOptions {
  /** Milliseconds clock (deadlines). */
  clock: () => number;
  /** Told after every successful run. */
  onRun?: (report: RunReport) => void;
  /** Told the rows and their answers while the batch's input is still valid (the monitor samples here). */
  onRows?: (input: Float32Array, metas: readonly RowMeta[], results: readonly ImageResult[]) => void;
  /** Plans deadline caps; default: one over the batch times measured at load (none when not profiled). */
  deadlines?: DeadlinePlanner;
}

/**
 * Per row, the last exit (0-based) it may reach and still be answered by its deadline: the planner's
 * choice from the time already spent since the row arrived, the measured batch times and the rows
 * waiting behind (`behindDue`: their due times on the clock). Without a planner (nothing profiled), no cap.
 */
export function deadlineCaps(
  planner: DeadlinePlanner | undefined,
  last: number,
  metas: readonly RowMeta[],
  now: number,
  behindDue: readonly number[] = [],
  arrivals?: ArrivalWindow,
): Int32Array {
  if (planner === undefined) return new Int32Array(metas.length).fill(last);
  const left = metas.map((m) => (m.choice.deadlineMs === undefined ? undefined : m.arrivedAt + m.choice.deadlineMs - now));
  const deadlines = metas.flatMap((m) => (m.choice.deadlineMs === undefined ? [] : [m.choice.deadlineMs]));
  // The rows arriving meanwhile are taken to come with the tightest deadline of this batch.
  const flow = arrivals && deadlines.length > 0 ? { perMs: arrivals.perMs(now), deadlineMs: Math.min(...deadlines) } : undefined;
  const caps = planner.caps(
    left,
    behindDue.map((due) => due - now),
    flow,
  );
  for (const m of metas) if (m.choice.deadlineMs !== undefined) arrivals?.add(m.arrivedAt);
  return caps;
}

/** When a request's answers are due on the clock (undefined: no deadline): what the batcher and the decode pool order by. */
export function dueAt(arrivedAt: number, choice: RowMeta['choice']): number | undefined {
  return choice.deadlineMs === undefined ? undefined : arrivedAt + choice.deadlineMs;
}

interface Ran {
  results: ImageResult[];
  exits: Int32Array;
  stages: StageTiming[];
  ledgerForced: number;
  path: RunReport['path'];
}

/**
 * Certified rows the ledger must not force early (docs/eero.md "Certified or refused"): in row order,
 * each is paid up front up to its cap while the pool (after exit 1 for every row) holds, and the
 * steps of a paid row never ask the pool again. A row the pool cannot pay now runs in the grant like
 * any other; if the grant forces it, its answer is not certified (refused, unless its request allows
 * uncertified answers). A request that allows them takes its chances in the grant from the start.
 */
export function fundCertified(
  metas: readonly RowMeta[],
  caps: Int32Array,
  pool: number,
  costs: Float64Array,
): { exempt: Uint8Array; prepaid: number } {
  const exempt = new Uint8Array(metas.length);
  let left = pool - metas.length * (costs[0] as number);
  let prepaid = 0;
  metas.forEach((m, r) => {
    if (m.choice.rule !== 'certified' || m.choice.allowUncertified) return;
    const need = (costs[caps[r] as number] as number) - (costs[0] as number);
    if (need > left) return;
    exempt[r] = 1;
    left -= need;
    prepaid += need;
  });
  return { exempt, prepaid };
}

/** The engine path for a batch: the one graph when it can route every row and keep the ledger's grant, else the chain. */
async function runEngine(
  model: LoadedModel,
  batch: BatchInput<RowMeta>,
  caps: Int32Array,
  reservation: Reservation | undefined,
  pool: BufferPool,
): Promise<Ran> {
  const { costs, engine, labels } = model;
  const n = batch.metas.length;
  if (engine.runFull) {
    const logits = await engine.runFull(batch.input, n);
    return { ...fullResults(model, batch.metas, logits), stages: [], ledgerForced: 0, path: 'full' };
  }
  // The ledger grants step by step (PoolSpender). A graph that takes the grant (inputs credit and steps)
  // grants as the chain would, in the same row order; an older one runs only when the pool pays every
  // row to its cap. Running it on a hope and rerunning the chain when it overspent would spend compute
  // no ledger sees, so it does not.
  const funding = reservation ? fundCertified(batch.metas, caps, reservation.pool, costs.costs) : undefined;
  const spender = new PoolSpender((reservation?.pool ?? Infinity) - (funding?.prepaid ?? 0), costs.costs, n);
  const graph = engine.earlyExit;
  const covered = reservation === undefined || reservation.pool >= capsCost(caps, costs.costs) * (1 - 1e-12);
  const dead = batch.signals.some((s) => s?.aborted === true);
  // Below the crossover (measured at load, path-choice.ts) the chain is faster.
  const chainFirst = n < model.paths.graphFrom;
  // The graph's grant cannot spare paid-up rows: with such rows and a pool that binds, the chain runs.
  const exempting = funding !== undefined && funding.prepaid > 0 && !covered;
  if (graph && !chainFirst && !dead && !exempting && (covered || graph.grants) && graphCanRoute(batch.metas, graph.spec)) {
    const grant = covered ? undefined : graphGrant(spender, costs.costs);
    const g = await runGraphBatch(graph, batch.input, batch.metas, caps, labels, costs.costs, costs.macs, grant, pool);
    // One call: no per-stage timings (the inference phase and the batch report carry its time).
    return { results: g.results, exits: g.exits, stages: [], ledgerForced: g.ledgerForced, path: 'graph' };
  }
  const router = new BatchRouter(batch.metas, caps, spender, labels, costs.costs.length, batch.signals, funding?.exempt);
  const run = await engine.run(batch.input, n, router.onExit);
  return {
    results: router.finish(run.exits, run.logits, costs.costs, costs.macs),
    exits: run.exits,
    stages: run.stages.map((st) => ({ stage: st.stage + 1, rows: st.rows, seconds: (st.ms + st.gatherMs) / 1000 })),
    ledgerForced: router.ledgerForced,
    path: 'stages',
  };
}

/** What the rows cost if every one ran to its cap (the deadline's last exit, else the final one). */
function capsCost(caps: Int32Array, costs: Float64Array): number {
  let total = 0;
  for (const c of caps) total += costs[c] as number;
  return total;
}

export function createBatchRunner(model: LoadedModel, options: BatchRunnerOptions): RunBatch<RowMeta, ImageResult> {
  const { costs, routing } = model;
  const last = costs.costs.length - 1;
  const planner =
    options.deadlines ?? (costs.batchTimes ? new DeadlinePlanner(costs.batchTimes, { graphFrom: model.paths.graphFrom }) : undefined);
  const arrivals = new ArrivalWindow();
  // The graph's per-row inputs of finished batches, for the next ones.
  const pool = new BufferPool();
  return async (batch: BatchInput<RowMeta>): Promise<ImageResult[]> => {
    const n = batch.metas.length;
    const start = options.clock();
    const caps = deadlineCaps(planner, last, batch.metas, start, batch.behind, arrivals);
    const ledger = routing.ledger;
    const reservation = ledger?.reserve(n);
    let ran: Ran;
    try {
      ran = await runEngine(model, batch, caps, reservation, pool);
    } catch (e) {
      if (reservation) ledger?.cancel(reservation);
      throw e;
    }
    // What this run really took teaches the planner this machine's pace now (load from elsewhere, the engine path).
    if (ran.path !== 'full') planner?.observe(rowsPerStage(ran.exits, last + 1), options.clock() - start, ran.path);
    const rowCosts = new Float64Array(n);
    let spent = 0;
    for (let r = 0; r < n; r++) spent += rowCosts[r] = costs.costs[ran.exits[r] as number] as number;
    if (reservation) ledger?.settle(reservation, rowCosts, ran.ledgerForced);
    options.onRun?.({
      rows: n,
      stages: ran.stages,
      reserved: reservation ? reservation.pool : 0,
      spent,
      ledgerForced: ran.ledgerForced,
      path: ran.path,
    });
    options.onRows?.(batch.input, batch.metas, ran.results);
    return ran.results;
  };
}

const wallClock = (): number => performance.now();
/** One runner per model and clock, kept as the service keeps its batcher's: its buffers and what its planner learned go on to the next batch. */
const directRunners = new WeakMap<LoadedModel, WeakMap<() => number, RunBatch<RowMeta, ImageResult>>>();

/** One batch straight through the engine and router, without a batcher (benchmarks, tests). */
export function runDirect(
  model: LoadedModel,
  input: Float32Array,
  choice: RowMeta['choice'],
  firstKey = 0,
  clock: () => number = wallClock,
): Promise<ImageResult[]> {
  const n = input.length / model.preprocessor.imageLength;
  const metas = Array.from({ length: n }, (_, i): RowMeta => ({ choice, key: firstKey + i, topk: 1, trace: false, arrivedAt: clock() }));
  let runners = directRunners.get(model);
  if (runners === undefined) directRunners.set(model, (runners = new WeakMap()));
  let run = runners.get(clock);
  if (run === undefined) runners.set(clock, (run = createBatchRunner(model, { clock })));
  return run({ input, metas, signals: [], queueMs: metas.map(() => 0) });
}

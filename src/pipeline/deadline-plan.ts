/**
 * Deadlines as a latency bound: at the start of each batch, from the stage times measured at a few
 * batch sizes at load on each engine path (engine profileBatchTimes) and a correction learned from
 * the runs since, pick for the batch's rows the deepest exit that still answers them by their
 * deadlines. Every row of a batch is answered when the batch ends, so the rows share one end time;
 * rows already too late even at exit 1 go at exit 1 and do not hold the others back; rows waiting
 * behind the batch keep the time they need for exit 1, and under steady traffic the rows arriving
 * meanwhile the time to go as deep (docs/eero.md "Deadlines").
 */
import { overheadMsAt, stageMsAt, type BatchTimes, type PathTimes } from '../engine';
import { RecentValues } from './recent-runs';

/**
 * Milliseconds kept between a batch's predicted end and its rows' deadlines, for what happens after
 * the run: the answers resolved, serialised and written (about a millisecond on a quiet machine).
 */
export const DEADLINE_MARGIN_MS = 2;

/**
 * How the plan learns this machine's pace from the runs since load: a batch takes its profile's time
 * times the median of actual / profile over the last RATIO_WINDOW runs (per path, and per path and
 * batch size class), plus the 90th percentile over the path's last SLACK_WINDOW runs of what a run
 * took beyond that. A stall (the process descheduled, a collection) adds milliseconds whatever
 * the batch: scaled as a ratio it made every later prediction of a small batch several times too slow.
 */
const RATIO_WINDOW = 32;
const SLACK_WINDOW = 64;
const SLACK_QUANTILE = 0.9;
const FACTOR_RANGE = [0.25, 20] as const;
/** Runs of one batch-size class before its own correction replaces the one learned over all runs. */
const CLASS_RUNS = 8;

/** Steady traffic with deadlines: how many such rows arrive per millisecond, and the deadline they come with. */
export interface Flow {
  perMs: number;
  deadlineMs: number;
}

/**
 * The rows with a deadline that earlier batches planned, by arrival time, over the last `windowMs`:
 * the flow that keeps coming. The current batch's own rows are added after it is planned, so that a
 * burst arriving at once is not taken for a flow.
 */
export class ArrivalWindow {
  private times: number[] = [];

  constructor(private readonly windowMs = 500) {}

  add(arrivedAt: number): void {
    this.times.push(arrivedAt);
  }

  /** Rows per millisecond that arrived in the window ending at `now`. */
  perMs(now: number): number {
    const from = now - this.windowMs;
    if (this.times.some((t) => t < from)) this.times = this.times.filter((t) => t >= from);
    return this.times.length / this.windowMs;
  }
}

export interface DeadlinePlannerOptions {
  /** Default DEADLINE_MARGIN_MS. */
  marginMs?: number;
  /** Batches of at least this many rows take the one graph when there is one (the model's PathChoice; default 2). */
  graphFrom?: number;
}

/** The engine paths a batch can take, as run-batch reports them (`full` has no exits to plan). */
export type PlannedPath = 'graph' | 'stages';

export class DeadlinePlanner {
  readonly marginMs: number;
  private readonly graphFrom: number;
  private readonly stages: number;
  /** Corrections by path ("graph"), and by path and batch size class (1, 2-3, 4-7, ...: "graph 2"). */
  private readonly ratios = new Map<string, RecentValues>();
  /**
   * Milliseconds runs took beyond their corrected profile, by path: a burst's first row runs alone on the
   * chain beside the other requests' decoding, and its stalls must not slow the plan of the graph's batches.
   */
  private readonly beyond = new Map<PlannedPath, RecentValues>();
  /** The path runs of each size class took last: the engine picks it, the plan follows. */
  private readonly lastPath = new Map<number, PlannedPath>();

  constructor(
    private readonly times: PathTimes,
    options: DeadlinePlannerOptions = {},
  ) {
    this.marginMs = options.marginMs ?? DEADLINE_MARGIN_MS;
    this.graphFrom = Math.max(1, options.graphFrom ?? 2);
    this.stages = times.stages.stageMs[0]?.length ?? 0;
  }

  /** The path a batch of `rows` rows is expected to take: the one its size class took last, else the graph from `graphFrom` rows when there is one. */
  pathFor(rows: number): PlannedPath {
    return this.lastPath.get(sizeClass(rows)) ?? (rows >= this.graphFrom && this.times.graph ? 'graph' : 'stages');
  }

  /** Milliseconds the measured profile gives a run in which stage s (0-based) runs `rowsPerStage[s]` rows. */
  profileMs(rowsPerStage: ArrayLike<number>, path: PlannedPath = this.pathFor(rowsPerStage[0] ?? 0)): number {
    const table: BatchTimes = (path === 'graph' ? this.times.graph : undefined) ?? this.times.stages;
    let ms = overheadMsAt(table, rowsPerStage[0] ?? 0);
    for (let s = 0; s < this.stages; s++) ms += stageMsAt(table, s, rowsPerStage[s] ?? 0);
    return ms;
  }

  /** The correction learned for runs of `rows` rows on `path`. */
  factor(rows: number, path: PlannedPath = this.pathFor(rows)): number {
    const c = this.ratios.get(`${path} ${sizeClass(rows)}`);
    const log = (c !== undefined && c.count >= CLASS_RUNS ? c : this.ratios.get(path))?.quantile(0.5) ?? 0;
    return Math.min(FACTOR_RANGE[1], Math.max(FACTOR_RANGE[0], Math.exp(log)));
  }

  /** Milliseconds added to a prediction on `path`: what its recent runs took beyond their corrected profile (90th percentile). */
  slackMs(path: PlannedPath): number {
    return Math.max(0, this.beyond.get(path)?.quantile(SLACK_QUANTILE) ?? 0);
  }

  predictMs(rowsPerStage: ArrayLike<number>): number {
    return this.scaledMs(rowsPerStage) + this.slackMs(this.pathFor(rowsPerStage[0] ?? 0));
  }

  /** The profile's time times the learned ratio, without the slack. */
  private scaledMs(rowsPerStage: ArrayLike<number>): number {
    const path = this.pathFor(rowsPerStage[0] ?? 0);
    return this.profileMs(rowsPerStage, path) * this.factor(rowsPerStage[0] ?? 0, path);
  }

  /** Learn from a finished run: the path it took, the rows each stage ran and the milliseconds it took. */
  observe(rowsPerStage: ArrayLike<number>, ms: number, path: PlannedPath): void {
    const rows = rowsPerStage[0] ?? 0;
    this.lastPath.set(sizeClass(rows), path);
    const planned = this.profileMs(rowsPerStage, path);
    if (!(planned > 0 && ms > 0 && Number.isFinite(ms))) return;
    let beyond = this.beyond.get(path);
    if (beyond === undefined) this.beyond.set(path, (beyond = new RecentValues(SLACK_WINDOW)));
    beyond.add(ms - planned * this.factor(rows, path));
    for (const key of [path, `${path} ${sizeClass(rows)}`]) {
      let w = this.ratios.get(key);
      if (w === undefined) this.ratios.set(key, (w = new RecentValues(RATIO_WINDOW)));
      w.add(Math.log(ms / planned));
    }
  }

  /**
   * Per row, the last exit (0-based) it may reach. `leftMs[r]`: milliseconds until row r's deadline
   * (undefined: no deadline, never capped). `behindMs`: the same for the rows with a deadline still
   * waiting behind this batch (the next batch's rows), earliest first. `flow`: the rows with a
   * deadline that keep arriving (steady traffic), which will wait for this batch.
   */
  caps(leftMs: ReadonlyArray<number | undefined>, behindMs: readonly number[] = [], flow?: Flow): Int32Array {
    const last = this.stages - 1;
    const caps = Int32Array.from(leftMs, (l) => (l === undefined ? last : 0));
    const timed = leftMs.flatMap((l, r) => (l === undefined ? [] : [r]));
    if (timed.length === 0 || last <= 0) return caps;
    const atExit1 = this.predictMs(this.rowsPerStage(caps));
    // Too late even at exit 1: answered there (and counted missed); they set no end time for the others.
    const onTime = timed.filter((r) => (leftMs[r] as number) - this.marginMs >= atExit1);
    if (onTime.length === 0) return caps;
    let endBy = Math.min(...onTime.map((r) => leftMs[r] as number)) - this.marginMs;
    endBy = Math.min(endBy, this.nextBatchStartBy(behindMs, atExit1));
    // Deeper, one exit at a time for every on-time row together (they are answered together), while it still ends in time.
    for (let l = 1; l <= last; l++) {
      const trial = Int32Array.from(caps);
      for (const r of onTime) trial[r] = l;
      const ms = this.predictMs(this.rowsPerStage(trial));
      if (ms > endBy || !this.sustainable(ms, l, behindMs.length, flow)) break;
      caps.set(trial);
    }
    return caps;
  }

  /**
   * Whether rows arriving while this batch runs for `ms` (at the flow's rate, after those already
   * waiting) can still be answered at the same depth: they wait for this batch, then run theirs.
   * Without it, each batch would take all the time its own rows have, and the next rows none.
   */
  private sustainable(ms: number, depth: number, waiting: number, flow: Flow | undefined): boolean {
    if (flow === undefined || !(flow.perMs > 0)) return true;
    const rows = new Array<number>(this.stages).fill(0);
    // The expected number of arrivals, fractional: one row expected in every tenth batch costs a tenth of a row.
    rows.fill(waiting + flow.perMs * ms, 0, depth + 1);
    // The slack once, in `ms`: a stall of the 90th percentile in both runs would be a rarer event than the plan allows for.
    return ms + this.scaledMs(rows) + this.marginMs <= flow.deadlineMs;
  }

  /**
   * The latest this batch may end so that the rows waiting behind it, as the next batch, can still be
   * answered at exit 1 in time. Rows that could not be even if this batch ran at exit 1 set no limit.
   */
  private nextBatchStartBy(behindMs: readonly number[], thisAtExit1: number): number {
    if (behindMs.length === 0) return Infinity;
    const rows = new Array<number>(this.stages).fill(0);
    rows[0] = behindMs.length;
    // The slack once, in this batch's plan (as in sustainable).
    const next = this.scaledMs(rows) + this.marginMs;
    const reachable = behindMs.filter((left) => left - next >= thisAtExit1);
    return reachable.length === 0 ? Infinity : Math.min(...reachable) - next;
  }

  /** The plan assumes no row leaves before its cap. */
  private rowsPerStage(caps: Int32Array): number[] {
    return rowsPerStage(caps, this.stages);
  }
}

/** How many rows each of `stages` stages runs when row r goes as far as exit `lastExits[r]` (0-based). */
export function rowsPerStage(lastExits: ArrayLike<number>, stages: number): number[] {
  const rows = new Array<number>(stages).fill(0);
  for (let r = 0; r < lastExits.length; r++) for (let s = 0; s <= (lastExits[r] as number); s++) rows[s] = (rows[s] as number) + 1;
  return rows;
}

function sizeClass(rows: number): number {
  return Math.max(0, Math.floor(Math.log2(Math.max(1, rows))));
}

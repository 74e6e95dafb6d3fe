/**
 * The batch-time model (pure arithmetic, no engine): each stage's measured time at a few batch
 * sizes, linear in the rows between them. A batch of n rows does not take n times one row's time.
 */
import { EeroError } from '../errors';

/** Each stage's time at a few batch sizes, every row through every stage. */
export interface BatchTimes {
  /** Batch sizes measured, ascending, from 1. */
  sizes: number[];
  /** Per size, per stage (0-based): median milliseconds of the whole batch's stage (session run and the survivors' gather). */
  stageMs: number[][];
  /** Per size: median milliseconds of the run outside its stages (tensors, the router's calls between stages). */
  overheadMs: number[];
}

/** The model for each engine path: the stage chain's, and the one early-exit graph's when the engine has one. */
export interface PathTimes {
  stages: BatchTimes;
  graph: BatchTimes | undefined;
}

/** 1, 2, then x4 up to `max` (which is always included): few sizes, enough to follow the curve. */
export function batchSizesUpTo(max: number): number[] {
  if (!Number.isInteger(max) || max < 1) throw new EeroError('BAD_PARAMETER', `profile: batch size must be an integer >= 1, got ${max}`);
  const sizes = [1];
  for (let n = 2; n < max; n *= 4) sizes.push(n);
  if (max > 1) sizes.push(max);
  return sizes;
}

/** Seconds per image to reach each exit at batch size `n` (the `seconds` cost unit), from measured batch times. */
export function exitSecondsAt(times: BatchTimes, n: number): number[] {
  const stages = times.stageMs[0]?.length ?? 0;
  return cumulative(Array.from({ length: stages }, (_, s) => stageMsAt(times, s, n) / 1000 / n));
}

/**
 * Milliseconds of stage `stage` (0-based) over a batch of `rows` rows: linear between the measured
 * sizes; beyond the largest, that size's time per row times `rows` (no further saving assumed).
 */
export function stageMsAt(times: BatchTimes, stage: number, rows: number): number {
  return interpolate(
    times.sizes,
    times.stageMs.map((ms) => ms[stage] ?? 0),
    rows,
  );
}

/** Milliseconds of a run of `rows` rows outside its stages. */
export function overheadMsAt(times: BatchTimes, rows: number): number {
  return interpolate(times.sizes, times.overheadMs, rows);
}

function interpolate(sizes: readonly number[], ms: readonly number[], rows: number): number {
  if (rows <= 0) return 0;
  const k = sizes.length - 1;
  for (let i = 0; i <= k; i++) {
    const n1 = sizes[i] as number;
    if (rows > n1) continue;
    const m1 = ms[i] as number;
    if (i === 0) return (m1 * rows) / n1;
    const n0 = sizes[i - 1] as number;
    const m0 = ms[i - 1] as number;
    return m0 + ((m1 - m0) * (rows - n0)) / (n1 - n0);
  }
  return ((ms[k] as number) * rows) / (sizes[k] as number);
}

/**
 * More rows never take less time, from 2 rows on: medians of noisy runs can say otherwise. One row is
 * left as measured: it may run on sessions of its own (EngineOptions.singleRowThreads), slower than two.
 */
export function monotone(t: BatchTimes): BatchTimes {
  const up = (values: number[]): number[] => {
    let top = 0;
    return values.map((v, i) => (t.sizes[i] === 1 ? v : (top = Math.max(top, v))));
  };
  const stages = t.stageMs[0]?.length ?? 0;
  const columns = Array.from({ length: stages }, (_, s) => up(t.stageMs.map((ms) => ms[s] as number)));
  return { sizes: t.sizes, stageMs: t.sizes.map((_, i) => columns.map((c) => c[i] as number)), overheadMs: up(t.overheadMs) };
}

/**
 * The one graph's table from its time to exit 1 and to the last exit at each size: exit 1's time
 * (everything the graph spends whatever the depth) is stage 1's; the rest is spread over the later
 * stages as the chain spends it there.
 */
export function graphTimes(chain: BatchTimes, firstMs: readonly number[], lastMs: readonly number[]): BatchTimes {
  const stageMs = chain.sizes.map((_, i) => {
    const c = chain.stageMs[i] as number[];
    const first = firstMs[i] as number;
    const rest = Math.max(0, (lastMs[i] as number) - first);
    const later = c.slice(1).reduce((a, b) => a + b, 0);
    return c.map((ms, s) => (s === 0 ? first : later > 0 ? (rest * ms) / later : rest / (c.length - 1)));
  });
  return monotone({ sizes: chain.sizes, stageMs, overheadMs: chain.sizes.map(() => 0) });
}

function cumulative(values: number[]): number[] {
  let sum = 0;
  return values.map((v) => (sum += v));
}

/**
 * Measuring the stages on this machine: seconds per image at one batch size (the router's `seconds`
 * cost unit), and each stage's time at a few batch sizes (the deadline planner's batch-time model:
 * a batch of n rows does not take n times one row's time).
 */
import { performance } from 'node:perf_hooks';
import { EeroError } from '../errors';
import type { Engine } from './engine-types';

export interface ProfileOptions {
  /** Untimed runs first (default 2). */
  warmupRuns?: number;
  /** Timed runs averaged (default 5). */
  runs?: number;
  signal?: AbortSignal;
}

export interface StageProfile {
  batchSize: number;
  runs: number;
  /** Mean seconds per image of each stage (its backbone segment and its head). */
  stageSeconds: number[];
  /** Cumulative seconds per image to reach each exit: the `seconds` cost of exit l. */
  exitSeconds: number[];
}

/** Each stage's time at a few batch sizes, every row through every stage. */
export interface BatchTimes {
  /** Batch sizes measured, ascending, from 1. */
  sizes: number[];
  /** Per size, per stage (0-based): median milliseconds of the whole batch's stage (session run and the survivors' gather). */
  stageMs: number[][];
  /** Per size: median milliseconds of the run outside its stages (tensors, the router's calls between stages). */
  overheadMs: number[];
}

interface TimedRun {
  stageMs: number[];
  totalMs: number;
}

function checkRuns(runs: number, warmupRuns: number): void {
  if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(warmupRuns) || warmupRuns < 0) {
    throw new EeroError('BAD_PARAMETER', `profile: runs must be >= 1 and warmupRuns >= 0, got ${runs}, ${warmupRuns}`);
  }
}

/** One run with every row through every stage, timed per stage. */
async function timedRun(engine: Engine, input: Float32Array, batchSize: number, signal?: AbortSignal): Promise<TimedRun> {
  const stay = (_l: number, _z: Float32Array, rows: Int32Array): Uint8Array => new Uint8Array(rows.length);
  const t0 = performance.now();
  const result = await engine.run(input, batchSize, stay, signal);
  const totalMs = performance.now() - t0;
  const stageMs = new Array<number>(engine.stageCount).fill(0);
  for (const s of result.stages) stageMs[s.stage] = s.ms + s.gatherMs;
  return { stageMs, totalMs };
}

export async function profileStages(engine: Engine, batchSize: number, options: ProfileOptions = {}): Promise<StageProfile> {
  const warmupRuns = options.warmupRuns ?? 2;
  const runs = options.runs ?? 5;
  checkRuns(runs, warmupRuns);
  const input = noise(batchSize * engine.imageSize);
  const stay = (_l: number, _z: Float32Array, rows: Int32Array): Uint8Array => new Uint8Array(rows.length);
  const totalMs = new Array<number>(engine.stageCount).fill(0);
  for (let r = 0; r < warmupRuns + runs; r++) {
    const result = await engine.run(input, batchSize, stay, options.signal);
    if (r < warmupRuns) continue;
    result.stages.forEach((s) => (totalMs[s.stage] = (totalMs[s.stage] ?? 0) + s.ms));
  }
  const stageSeconds = totalMs.map((ms) => ms / 1000 / runs / batchSize);
  return { batchSize, runs, stageSeconds, exitSeconds: cumulative(stageSeconds) };
}

/** 1, 2, then x4 up to `max` (which is always included): few sizes, enough to follow the curve. */
export function batchSizesUpTo(max: number): number[] {
  if (!Number.isInteger(max) || max < 1) throw new EeroError('BAD_PARAMETER', `profile: batch size must be an integer >= 1, got ${max}`);
  const sizes = [1];
  for (let n = 2; n < max; n *= 4) sizes.push(n);
  if (max > 1) sizes.push(max);
  return sizes;
}

/**
 * Each stage's time at each of `sizes`. The sizes take turns round by round, so that a burst of load
 * from elsewhere on the machine falls on all of them; medians, so that one slow run does not count.
 */
export async function profileBatchTimes(engine: Engine, sizes: readonly number[], options: ProfileOptions = {}): Promise<BatchTimes> {
  const warmupRuns = options.warmupRuns ?? 2;
  const runs = options.runs ?? 5;
  checkRuns(runs, warmupRuns);
  const sorted = [...new Set(sizes)].sort((a, b) => a - b);
  if (sorted.length === 0 || !sorted.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new EeroError('BAD_PARAMETER', `profile: batch sizes must be integers >= 1, got ${sizes.join(', ')}`);
  }
  const inputs = sorted.map((n) => noise(n * engine.imageSize));
  const timed: TimedRun[][] = sorted.map(() => []);
  for (let r = 0; r < warmupRuns + runs; r++) {
    for (const [i, n] of sorted.entries()) {
      const t = await timedRun(engine, inputs[i] as Float32Array, n, options.signal);
      if (r >= warmupRuns) timed[i]?.push(t);
    }
  }
  const stageMs = timed.map((ts) => Array.from({ length: engine.stageCount }, (_, s) => median(ts.map((t) => t.stageMs[s] as number))));
  const overheadMs = timed.map((ts) => median(ts.map((t) => Math.max(0, t.totalMs - t.stageMs.reduce((a, b) => a + b, 0)))));
  return monotone({ sizes: sorted, stageMs, overheadMs });
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

/** More rows never take less time: medians of noisy runs can say otherwise. */
function monotone(t: BatchTimes): BatchTimes {
  const up = (values: number[]): number[] => {
    let top = 0;
    return values.map((v) => (top = Math.max(top, v)));
  };
  const stages = t.stageMs[0]?.length ?? 0;
  const columns = Array.from({ length: stages }, (_, s) => up(t.stageMs.map((ms) => ms[s] as number)));
  return { sizes: t.sizes, stageMs: t.sizes.map((_, i) => columns.map((c) => c[i] as number)), overheadMs: up(t.overheadMs) };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function cumulative(values: number[]): number[] {
  let sum = 0;
  return values.map((v) => (sum += v));
}

/** Deterministic standard-normal-ish values (timing does not depend on them). */
function noise(n: number): Float32Array {
  const out = new Float32Array(n);
  let state = 0x9e3779b9;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 2 ** 32;
  };
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
  return out;
}

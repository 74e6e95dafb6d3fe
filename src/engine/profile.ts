/**
 * Measuring the stages on this machine: seconds per image at one batch size (the router's `seconds`
 * cost unit), and each stage's time at a few batch sizes on each engine path (the deadline
 * planner's batch-time model, batch-times.ts).
 */
import { performance } from 'node:perf_hooks';
import { EeroError } from '../errors';
import { graphTimes, monotone, type PathTimes } from './batch-times';
import type { EarlyExitGraph } from './early-exit-graph';
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
  const input = noiseInput(batchSize * engine.imageSize);
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

/**
 * Each stage's time at each of `sizes`, on the stage chain, and the one early-exit graph's to exit 1
 * and to the last exit when the engine has it. The sizes take turns round by round, so that a burst of
 * load from elsewhere on the machine falls on all of them; medians, so that one slow run does not count.
 */
export async function profileBatchTimes(engine: Engine, sizes: readonly number[], options: ProfileOptions = {}): Promise<PathTimes> {
  const warmupRuns = options.warmupRuns ?? 2;
  const runs = options.runs ?? 5;
  checkRuns(runs, warmupRuns);
  const sorted = [...new Set(sizes)].sort((a, b) => a - b);
  if (sorted.length === 0 || !sorted.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new EeroError('BAD_PARAMETER', `profile: batch sizes must be integers >= 1, got ${sizes.join(', ')}`);
  }
  const inputs = sorted.map((n) => noiseInput(n * engine.imageSize));
  const graph = engine.earlyExit && graphRunner(engine, engine.earlyExit);
  const timed: TimedRun[][] = sorted.map(() => []);
  const graphMs: Array<{ first: number[]; last: number[] }> = sorted.map(() => ({ first: [], last: [] }));
  for (let r = 0; r < warmupRuns + runs; r++) {
    for (const [i, n] of sorted.entries()) {
      const input = inputs[i] as Float32Array;
      const t = await timedRun(engine, input, n, options.signal);
      const g = graph && { first: await graph(input, n, 'first'), last: await graph(input, n, 'last') };
      if (r < warmupRuns) continue;
      timed[i]?.push(t);
      if (g) (graphMs[i] as { first: number[]; last: number[] }).first.push(g.first);
      if (g) (graphMs[i] as { first: number[]; last: number[] }).last.push(g.last);
    }
  }
  const stageMs = timed.map((ts) => Array.from({ length: engine.stageCount }, (_, s) => median(ts.map((t) => t.stageMs[s] as number))));
  const overheadMs = timed.map((ts) => median(ts.map((t) => Math.max(0, t.totalMs - t.stageMs.reduce((a, b) => a + b, 0)))));
  const stages = monotone({ sizes: sorted, stageMs, overheadMs });
  const graphTable = graph
    ? graphTimes(
        stages,
        graphMs.map((g) => median(g.first)),
        graphMs.map((g) => median(g.last)),
      )
    : undefined;
  return { stages, graph: graphTable };
}

/** Times one run of the graph with every row leaving at exit 1, or going through every exit. */
function graphRunner(engine: Engine, graph: EarlyExitGraph): (input: Float32Array, n: number, depth: 'first' | 'last') => Promise<number> {
  const m = engine.stageCount;
  return async (input, n, depth) => {
    const thresholds = new Float64Array(n * m).fill(Infinity);
    // A threshold of -infinity is one every row passes: it leaves there.
    if (depth === 'first') for (let r = 0; r < n; r++) thresholds[r * m] = -Infinity;
    const tieNoise = new Float64Array(n * m * engine.classes);
    const t0 = performance.now();
    await graph.run(input, n, thresholds, 1, tieNoise, 0, { detail: false });
    return performance.now() - t0;
  };
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
export function noiseInput(n: number): Float32Array {
  const out = new Float32Array(n);
  let state = 0x9e3779b9;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 2 ** 32;
  };
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
  return out;
}

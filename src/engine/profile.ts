/** Measuring each stage's seconds per image on this machine: the router's `seconds` cost unit. */
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

export async function profileStages(engine: Engine, batchSize: number, options: ProfileOptions = {}): Promise<StageProfile> {
  const warmupRuns = options.warmupRuns ?? 2;
  const runs = options.runs ?? 5;
  if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(warmupRuns) || warmupRuns < 0) {
    throw new EeroError('BAD_PARAMETER', `profile: runs must be >= 1 and warmupRuns >= 0, got ${runs}, ${warmupRuns}`);
  }
  const input = noise(batchSize * engine.imageSize);
  const stay = (_l: number, _z: Float32Array, rows: Int32Array): Uint8Array => new Uint8Array(rows.length);
  const totalMs = new Array<number>(engine.stageCount).fill(0);
  for (let r = 0; r < warmupRuns + runs; r++) {
    const result = await engine.run(input, batchSize, stay, options.signal);
    if (r < warmupRuns) continue;
    result.stages.forEach((s) => (totalMs[s.stage] = (totalMs[s.stage] ?? 0) + s.ms));
  }
  const stageSeconds = totalMs.map((ms) => ms / 1000 / runs / batchSize);
  let sum = 0;
  const exitSeconds = stageSeconds.map((s) => (sum += s));
  return { batchSize, runs, stageSeconds, exitSeconds };
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

/**
 * Which engine path runs a batch of n rows faster on this machine: the one early-exit graph (one
 * onnxruntime call, scoring and compaction in the graph) or the stage chain (one call per stage, the
 * router in JavaScript between them). Small batches favour the chain (its per-call cost is lower than
 * the graph's per-exit operators), larger ones the graph; where they cross depends on the network,
 * the threads and the machine, so it is measured.
 */
import { performance } from 'node:perf_hooks';
import type { Engine } from './engine-types';
import { noiseInput } from './profile';

/** Batch sizes measured, in order: the crossover of both shipped networks lies among them (benchmarks/results/speed.md). */
export const PATH_PROFILE_SIZES: readonly number[] = [1, 2, 4, 8];

export interface PathProfileOptions {
  /** Sizes to measure, increasing (default PATH_PROFILE_SIZES). */
  sizes?: readonly number[];
  /**
   * Timed rounds per size after one untimed round (default 9); the cheapest round of each path decides.
   * With 3, five loads of the ResNet bundle on a busy 2-core host chose 1, 4, 2, 8 and 4; with 9, 2 every time.
   */
  rounds?: number;
  /**
   * Untimed batches of each path at the first size before any timing (default 256, rounded up to whole
   * rounds). The chain is cold at load: on ResNet-18/32x32 its single rows cost 1.1-1.3 ms of CPU each
   * for its first ~150 batches in a process, 0.45-0.5 ms after (the JavaScript around each stage's call
   * not yet optimised), and three loads in a row measured it cold and chose the graph for single rows.
   */
  warmupBatches?: number;
  /** Stop measuring once this many milliseconds have passed (default 3000): a large network's rows take the graph. */
  budgetMs?: number;
  /** Milliseconds clock of the budget (default performance.now). */
  clock?: () => number;
  /**
   * Milliseconds of CPU the process has used (default process.cpuUsage, every thread): what a round
   * costs. CPU time, not wall time: what a loaded server's throughput is bounded by, and it barely
   * moves with other processes' load (wall time per round varies several-fold on a busy 2-core host).
   */
  cpu?: () => number;
}

export interface PathProfile {
  /** Sizes measured, increasing. */
  sizes: number[];
  /** Per size: CPU milliseconds per row of the graph and of the chain, the cheapest of the rounds of mixed exits. */
  graphMs: number[];
  chainMs: number[];
  /**
   * The smallest batch from which the graph runs: the first measured size at which the graph was
   * faster and stayed faster at every larger measured size. Batches above the largest measured size
   * take the graph (its lead only grows with the batch); 1 when the graph won everywhere.
   */
  graphFrom: number;
}

/**
 * Measures both paths at each size on the same mixed routing: row r of the j-th batch of a round
 * leaves at exit (r + j) mod M, so over a round of M batches every exit is used as often (the graph
 * by a threshold of -inf there, the chain by onExit), as a served mix would; the input is fixed
 * pseudo-random pixels (timing does not depend on them). Both paths are warmed first (warmupBatches),
 * then at each size run one untimed round and `rounds` timed ones. Undefined when the engine has no
 * early-exit graph.
 */
export async function profilePaths(engine: Engine, options: PathProfileOptions = {}): Promise<PathProfile | undefined> {
  const graph = engine.earlyExit;
  if (!graph) return undefined;
  const sizes = options.sizes ?? PATH_PROFILE_SIZES;
  const rounds = options.rounds ?? 9;
  const warmupBatches = options.warmupBatches ?? 256;
  const budgetMs = options.budgetMs ?? 3000;
  const clock = options.clock ?? ((): number => performance.now());
  const cpu = options.cpu ?? processCpuMs;
  const m = engine.stageCount;
  const k = engine.classes;
  const start = clock();
  const out: PathProfile = { sizes: [], graphMs: [], chainMs: [], graphFrom: 1 };
  for (const n of sizes) {
    if (clock() - start > budgetMs) break;
    const input = noiseInput(n * engine.imageSize);
    const noise = new Float64Array(n * m * k);
    const thresholds = Array.from({ length: m }, (_, j) =>
      Float64Array.from({ length: n * m }, (_, i) => ((Math.floor(i / m) + j) % m === i % m ? -Infinity : Infinity)),
    );
    const graphRound = async (): Promise<void> => {
      for (let j = 0; j < m; j++) await graph.run(input, n, thresholds[j] as Float64Array, 1, noise, 0, { detail: false });
    };
    const chainRound = async (): Promise<void> => {
      for (let j = 0; j < m; j++) {
        await engine.run(input, n, (exit, _logits, rows) => Uint8Array.from(rows, (r) => ((r + j) % m === exit ? 1 : 0)));
      }
    };
    const g: number[] = [];
    const c: number[] = [];
    if (n === sizes[0]) for (let w = 0; w < warmupBatches; w += m) for (const run of [graphRound, chainRound]) await run();
    for (let r = 0; r <= rounds; r++) {
      // Alternate which path goes first: what ran just before slows or speeds the next.
      const pair = r % 2 === 0 ? [graphRound, chainRound] : [chainRound, graphRound];
      for (const run of pair) {
        const t0 = cpu();
        await run();
        if (r > 0) (run === graphRound ? g : c).push((cpu() - t0) / (m * n));
      }
    }
    out.sizes.push(n);
    // The cheapest round: other processes' load only ever adds to a round's CPU time (caches, migrations).
    out.graphMs.push(Math.min(...g));
    out.chainMs.push(Math.min(...c));
  }
  out.graphFrom = crossover(out);
  return out;
}

/** The first measured size from which the graph is faster at every measured size; above them all, the graph. */
export function crossover(p: Pick<PathProfile, 'sizes' | 'graphMs' | 'chainMs'>): number {
  let from = p.sizes.length > 0 ? (p.sizes[p.sizes.length - 1] as number) + 1 : 1;
  for (let i = p.sizes.length - 1; i >= 0; i--) {
    if ((p.graphMs[i] as number) >= (p.chainMs[i] as number)) break;
    from = p.sizes[i] as number;
  }
  return from;
}

function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

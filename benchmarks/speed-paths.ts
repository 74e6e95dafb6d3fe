/**
 * The engine paths of one network side by side, in one run: the plain one
 * graph (full.onnx, no exits), the early-exit graph (early-exit.onnx, one
 * onnxruntime call that routes rows itself) at the routed mix and with every
 * row through every exit, the stage chain (one session per stage, the router
 * in JavaScript between them) likewise, and for a served bundle `runBatch`
 * itself (what the service runs: the graph or the chain as the model's path
 * choice says; results built, ledger off). The routed variants run once per
 * routing mix (a bundle: EERO at several budgets). Fine interleaving: every
 * variant runs the same batch in turn, in a fresh seeded order, batch after
 * batch, repetition after repetition; ratios are medians of the per-batch
 * ratios; wall and CPU (process.cpuUsage: every thread of the process) per image.
 */
import type { Engine, OnExit, ScoreKindCode } from '../src/engine';
import type { LoadedModel, RouteChoice } from '../src/pipeline';
import { runDirect } from '../src/pipeline';
import {
  fillRowNoise,
  mulberry32,
  scoreRow,
  scorerOf,
  softmaxRow,
  TIE_NOISE,
  type ScoringOptions,
  type ThresholdPolicy,
} from '../src/router';
import { mean, median } from './support/format';

/** How rows are routed when they are: EERO's thresholds (a trained bundle), or a fixed mix (untrained: row key r leaves at exit r mod M). */
export type Routing = { kind: 'eero'; thresholds: Float64Array; scoring: Readonly<ScoringOptions> } | { kind: 'fixed' };

/** One routing of the routed variants: a label (the budget, or "fixed"), and for a bundle the served model's choice at it. */
export interface Mix {
  label: string;
  routing: Routing;
  /** The served model and its route choice, for the runBatch row (bundles only). */
  served?: { model: LoadedModel; choice: RouteChoice };
}

export interface Subject {
  name: string;
  /** Chain sessions and the early-exit graph. */
  staged: Engine;
  /** full.onnx as a one-stage engine. */
  reference: Engine;
  /** Cumulative MACs per exit. */
  macs: number[];
  /** images x C x H x W. */
  input: Float32Array;
  images: number;
  /** The routed mixes; the first is the primary one (its variants carry the plain keys). */
  mixes: Mix[];
}

export type VariantKind = 'full' | 'graph' | 'graph-all' | 'chain' | 'chain-all' | 'engine';
/** A variant's key: its kind, suffixed "@<mix label>" for a routed variant of a mix after the first. */
export type VariantKey = string;

export const VARIANT_LABELS: Record<VariantKind, string> = {
  full: 'plain graph (full.onnx, no exits)',
  graph: 'one graph (early-exit.onnx), routed',
  'graph-all': 'one graph, every row through every exit',
  chain: 'stage chain, routed',
  'chain-all': 'stage chain, every row through every exit',
  engine: 'runBatch (the service path)',
};

export interface VariantResult {
  key: VariantKey;
  kind: VariantKind;
  /** The mix of a routed variant. */
  mix: string | undefined;
  imagesPerSecond: number;
  wallMsPerImage: number;
  cpuMsPerImage: number;
  /** Median over batches of time(plain) / time(this). */
  speedup: number;
  /** Median over batches of cpu(this) / cpu(plain). */
  cpuRatio: number;
  /** Realised MACs / full MACs (1 for the every-row variants and the plain graph). */
  macFraction: number;
}

/** What one mix routed, and its ideals. */
export interface MixResult {
  label: string;
  /** Share of the images leaving at each exit (the chain's routed exits). */
  shares: number[];
  macIdeal: number;
  timeIdeal: number;
  /** Rows the one graph (and runBatch) routed to another exit than the chain. */
  mismatches: { graph: number; engine: number };
}

export interface BatchResult extends Omit<MixResult, 'label'> {
  batch: number;
  images: number;
  reps: number;
  variants: VariantResult[];
  /** Per mix (the first's shares, ideals and mismatches are also the batch's own fields). */
  mixes: MixResult[];
  /** Per stage: session milliseconds per image of the every-row chain (this run). */
  stageMs: number[];
  load: [number, number];
}

interface Pass {
  exits?: Int32Array;
  stageMs?: number[];
}

interface Variant {
  key: VariantKey;
  kind: VariantKind;
  mix: number | undefined;
  run: (start: number, size: number) => Promise<Pass>;
  wall: number[];
  cpu: number[];
  exits: Int32Array;
  stageMs: number[];
  passes: number;
}

/** The graph's score_kind of a score the graph computes (the router's registry). */
const scoreCode = (score: ScoringOptions['score']): ScoreKindCode => scorerOf(score).graphCode ?? 0;

type Pending = Omit<Variant, 'wall' | 'cpu' | 'exits' | 'stageMs' | 'passes'>;

function passes(s: Subject): Pending[] {
  const m = s.macs.length;
  const k = s.staged.classes;
  const size = s.staged.imageSize;
  const x = (start: number, b: number): Float32Array => s.input.subarray(start * size, (start + b) * size);
  const scoringOf = (r: Routing): Readonly<ScoringOptions> =>
    r.kind === 'eero' ? r.scoring : { score: 'margin', seed: 0, temperature: 1 };
  const probs = new Float64Array(k);
  const scratch = new Float64Array(k);
  const graph = s.staged.earlyExit;
  if (!graph) throw new Error(`${s.name}: the engine has no early-exit graph`);

  // The graph's per-row inputs, built as graph-batch.ts builds them (part of the measured work); routing undefined: every row to the end.
  const graphPass = async (start: number, b: number, routing: Routing | undefined): Promise<Pass> => {
    const scoring = scoringOf(routing ?? (s.mixes[0] as Mix).routing);
    const thresholds = new Float64Array(b * m);
    const noise = new Float64Array(b * m * k);
    for (let r = 0; r < b; r++) {
      const key = start + r;
      for (let l = 0; l < m; l++) {
        thresholds[r * m + l] =
          routing === undefined
            ? Infinity
            : routing.kind === 'eero'
              ? (routing.thresholds[l] as number)
              : l === key % m
                ? -Infinity
                : Infinity;
        fillRowNoise(scoring.seed, key, l, TIE_NOISE, noise, (r * m + l) * k, k);
      }
    }
    const res = await graph.run(x(start, b), b, thresholds, scoring.temperature, noise, scoreCode(scoring.score), { detail: false });
    return { exits: res.exits };
  };
  const chainPass = async (start: number, b: number, routing: Routing | undefined): Promise<Pass> => {
    const onExit: OnExit = (exit, logits, rows) => {
      const leave = new Uint8Array(rows.length);
      if (routing === undefined) return leave;
      const scoring = scoringOf(routing);
      for (let i = 0; i < rows.length; i++) {
        const key = start + (rows[i] as number);
        if (routing.kind === 'fixed') {
          leave[i] = key % m === exit ? 1 : 0;
          continue;
        }
        softmaxRow(logits, i * k, k, scoring.temperature, probs);
        leave[i] = scoreRow(probs, exit, key, scoring, scratch).score >= (routing.thresholds[exit] as number) ? 1 : 0;
      }
      return leave;
    };
    const res = await s.staged.run(x(start, b), b, onExit);
    return { exits: res.exits, stageMs: res.stages.map((st) => st.ms) };
  };
  const out: Pending[] = [
    { key: 'full', kind: 'full', mix: undefined, run: async (start, b) => (await s.reference.run(x(start, b), b, () => undefined), {}) },
    { key: 'graph-all', kind: 'graph-all', mix: undefined, run: (start, b) => graphPass(start, b, undefined) },
    { key: 'chain-all', kind: 'chain-all', mix: undefined, run: (start, b) => chainPass(start, b, undefined) },
  ];
  s.mixes.forEach((mix, i) => {
    const key = (kind: VariantKind): VariantKey => (i === 0 ? kind : `${kind}@${mix.label}`);
    out.push(
      { key: key('graph'), kind: 'graph', mix: i, run: (start, b) => graphPass(start, b, mix.routing) },
      { key: key('chain'), kind: 'chain', mix: i, run: (start, b) => chainPass(start, b, mix.routing) },
    );
    const served = mix.served;
    if (served) {
      out.push({
        key: key('engine'),
        kind: 'engine',
        mix: i,
        run: async (start, b) => {
          const results = await runDirect(served.model, x(start, b), served.choice, start);
          return { exits: Int32Array.from(results, (r) => r.exit - 1) };
        },
      });
    }
  });
  return out;
}

/** A function returning a new seeded permutation of its argument on every call (Fisher-Yates on mulberry32). */
function seededShuffle(seed: number): <T>(xs: readonly T[]) => T[] {
  const rand = mulberry32(seed);
  return <T>(xs: readonly T[]): T[] => {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  };
}

function cpuNow(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

/** One batch size: every variant over the same `images` images, `reps` times, finely interleaved. */
export async function measureBatch(s: Subject, batch: number, images: number, reps: number): Promise<BatchResult> {
  const { loadavg } = await import('node:os');
  const load0 = loadavg()[0] as number;
  const starts: number[] = [];
  for (let start = 0; start + batch <= Math.min(images, s.images); start += batch) starts.push(start);
  const n = starts.length * batch;
  const m = s.macs.length;
  const variants: Variant[] = passes(s).map((v) => ({
    ...v,
    wall: [],
    cpu: [],
    exits: new Int32Array(n),
    stageMs: new Array<number>(m).fill(0),
    passes: 0,
  }));
  const record = (v: Variant, start: number, p: Pass): void => {
    if (p.exits) v.exits.set(p.exits, start);
    if (p.stageMs) p.stageMs.forEach((ms, l) => (v.stageMs[l] = (v.stageMs[l] as number) + ms));
    v.passes += 1;
  };
  // Warm-up: one pass of every variant over every batch (sessions, allocators, thread pools); keeps the exits.
  for (const v of variants) for (const start of starts) record(v, start, await v.run(start, batch));
  // A fresh seeded order for every batch: each variant follows every other about equally often (what
  // ran just before, its caches and allocations, measurably slows or speeds the next one on this host).
  const shuffle = seededShuffle(20261201 + batch);
  for (let r = 0; r < reps; r++) {
    for (const start of starts) {
      for (const v of shuffle(variants)) {
        const c0 = cpuNow();
        const t0 = performance.now();
        const p = await v.run(start, batch);
        v.wall.push((performance.now() - t0) / batch);
        v.cpu.push((cpuNow() - c0) / batch);
        record(v, start, p);
      }
    }
  }
  const full = variants.find((v) => v.kind === 'full') as Variant;
  const chainAll = variants.find((v) => v.kind === 'chain-all') as Variant;
  const fullMacs = s.macs[m - 1] as number;
  const fractionOf = (exits: Int32Array): number => mean(Array.from(exits, (e) => s.macs[e] as number)) / fullMacs;
  const stageMs = chainAll.stageMs.map((ms) => ms / (chainAll.passes * batch));
  const total = stageMs.reduce((a, b) => a + b, 0);
  const mixes = s.mixes.map((mix, i): MixResult => {
    const of = (kind: VariantKind): Variant | undefined => variants.find((v) => v.kind === kind && v.mix === i);
    const chain = of('chain') as Variant;
    const shares = Array.from({ length: m }, (_, l) => chain.exits.filter((e) => e === l).length / n);
    let cumulative = 0;
    let timeFraction = 0;
    stageMs.forEach((ms, l) => {
      cumulative += ms;
      timeFraction += ((shares[l] as number) * cumulative) / total;
    });
    const mismatch = (v: Variant | undefined): number => (v ? v.exits.filter((e, j) => e !== chain.exits[j]).length : 0);
    return {
      label: mix.label,
      shares,
      macIdeal: 1 / fractionOf(chain.exits),
      timeIdeal: 1 / timeFraction,
      mismatches: { graph: mismatch(of('graph')), engine: mismatch(of('engine')) },
    };
  });
  const { label: _primary, ...primary } = mixes[0] as MixResult;
  return {
    batch,
    images: n,
    reps,
    variants: variants.map((v) => ({
      key: v.key,
      kind: v.kind,
      mix: v.mix === undefined ? undefined : s.mixes[v.mix]?.label,
      imagesPerSecond: 1000 / median(v.wall),
      wallMsPerImage: median(v.wall),
      cpuMsPerImage: median(v.cpu),
      speedup: median(v.wall.map((w, i) => (full.wall[i] as number) / w)),
      cpuRatio: median(v.cpu.map((c, i) => c / (full.cpu[i] as number))),
      macFraction: v.mix === undefined ? 1 : fractionOf(v.exits),
    })),
    ...primary,
    mixes,
    stageMs,
    load: [load0, loadavg()[0] as number],
  };
}

/** The EERO routing of a served model's route choice (thresholds and scoring of its policy). */
export function eeroRouting(choice: RouteChoice): Routing {
  const policy = choice.policy as ThresholdPolicy;
  if (!(policy.thresholds instanceof Float64Array)) throw new Error('the route choice is not a threshold policy');
  return { kind: 'eero', thresholds: policy.thresholds, scoring: policy.scoring };
}

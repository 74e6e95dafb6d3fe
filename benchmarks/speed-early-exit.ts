/**
 * early-exit.onnx (the whole multi-exit network as one graph that routes rows
 * itself) against full.onnx (the plain network) and the stage chain (one
 * session per stage, the router in JavaScript between them), on the
 * Fashion-MNIST test images, at batch 1, 16 and 64, in ONE run of
 * interleaved repetitions. Also per-stage seconds from the same run and the
 * time-based ideal of early exiting. Markdown on stdout.
 * Usage: node dist/benchmarks/speed-early-exit.js [--quick] [--threads N] [--bundle DIR ...]
 */
import { loadavg } from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { markdownTable } from '../src/cli/report/tables';
import { type Bundle, loadBundle, readBundleOutputs } from '../src/config';
import { createEngine, type Engine, type EngineOptions, type OnExit, sessionOptions } from '../src/engine';
import { type EarlyExitGraph, earlyExitGraphSpec, openEarlyExitGraph } from '../src/engine/early-exit-graph';
import { rowStream } from '../src/router/prng';
import { type ScoringOptions, scoreRow, softmaxRow, TIE_NOISE } from '../src/router/scores';
import { ThresholdCache } from '../src/router/threshold-cache';
import { fmnistTensor } from './support/fmnist-tensor';
import { fixed, median } from './support/format';
import { interleave, speedup, type Timed, type Variant } from './support/interleave';
import { runMain, type BenchOptions } from './support/options';
import { provenance } from './support/report';

const BATCHES = [1, 16, 64];
const BUDGET = 0.5;

/** Exit thresholds and scoring of one policy, as both routers use them. */
interface Routing {
  thresholds: Float64Array;
  scoring: ScoringOptions;
}

/** What one measured pass leaves behind. */
interface Pass {
  /** Process CPU seconds (all threads). */
  cpu: number;
  /** 0-based exit of every image (routed variants). */
  exits?: Int32Array;
  /** Per stage: session seconds summed over the pass (the every-row chain). */
  stageSeconds?: number[];
}

interface Models {
  bundle: Bundle;
  full: ort.InferenceSession;
  graph: EarlyExitGraph;
  engine: Engine;
  routing: Routing;
  m: number;
  k: number;
  imageSize: number;
}

/** Times `work` and the process CPU time it takes. */
async function withCpu(work: () => Promise<Omit<Pass, 'cpu'>>): Promise<Pass> {
  const c0 = process.cpuUsage();
  const out = await work();
  const c = process.cpuUsage(c0);
  return { ...out, cpu: (c.user + c.system) / 1e6 };
}

/** Batches of `batch` over the first `n` images; row keys are image indices, as in computeExitScores. */
async function overBatches(n: number, batch: number, each: (start: number, size: number) => Promise<void>): Promise<void> {
  for (let start = 0; start + batch <= n; start += batch) await each(start, batch);
}

function fullPass(md: Models, input: Float32Array, n: number, batch: number): Promise<Pass> {
  const [c, h, w] = [md.bundle.manifest.input.channels, md.bundle.manifest.input.height, md.bundle.manifest.input.width];
  return withCpu(async () => {
    await overBatches(n, batch, async (start, b) => {
      const x = new ort.Tensor('float32', input.subarray(start * md.imageSize, (start + b) * md.imageSize), [b, c, h, w]);
      await md.full.run({ [md.full.inputNames[0] as string]: x });
    });
    return {};
  });
}

/** early-exit.onnx; building the per-row thresholds and tie noise is part of the work (the service must do it). */
function graphPass(md: Models, input: Float32Array, n: number, batch: number, routing: Routing | undefined): Promise<Pass> {
  const { m, k } = md;
  const seed = routing?.scoring.seed ?? 0;
  return withCpu(async () => {
    const exits = new Int32Array(n);
    await overBatches(n, batch, async (start, b) => {
      const thresholds = new Float64Array(b * m);
      const noise = new Float64Array(b * m * k);
      for (let r = 0; r < b; r++) {
        for (let l = 0; l < m; l++) {
          thresholds[r * m + l] = routing ? (routing.thresholds[l] as number) : Infinity;
          const next = rowStream(seed, start + r, l);
          for (let c = 0; c < k; c++) noise[(r * m + l) * k + c] = TIE_NOISE * next();
        }
      }
      const temperature = routing?.scoring.temperature ?? 1;
      const res = await md.graph.run(
        input.subarray(start * md.imageSize, (start + b) * md.imageSize),
        b,
        thresholds,
        temperature,
        noise,
        0,
      );
      exits.set(res.exits, start);
    });
    return { exits };
  });
}

/** The stage chain: the engine, with the router's rule (score >= threshold) between stages; or every row through every stage. */
function chainPass(md: Models, input: Float32Array, n: number, batch: number, routing: Routing | undefined): Promise<Pass> {
  const { k } = md;
  const probs = new Float64Array(k);
  const scratch = new Float64Array(k);
  return withCpu(async () => {
    const exits = new Int32Array(n);
    const stageSeconds = new Array<number>(md.m).fill(0);
    await overBatches(n, batch, async (start, b) => {
      const onExit: OnExit = (exit, logits, rows) => {
        const leave = new Uint8Array(rows.length);
        if (!routing) return leave;
        for (let i = 0; i < rows.length; i++) {
          softmaxRow(logits, i * k, k, routing.scoring.temperature, probs);
          const s = scoreRow(probs, exit, start + (rows[i] as number), routing.scoring, scratch).score;
          leave[i] = s >= (routing.thresholds[exit] as number) ? 1 : 0;
        }
        return leave;
      };
      const res = await md.engine.run(input.subarray(start * md.imageSize, (start + b) * md.imageSize), b, onExit);
      exits.set(res.exits, start);
      for (const s of res.stages) stageSeconds[s.stage] = (stageSeconds[s.stage] as number) + s.ms / 1000;
    });
    return { exits, stageSeconds };
  });
}

async function openModels(dir: string, threads: number): Promise<Models> {
  const bundle = await loadBundle(dir);
  const m = bundle.manifest;
  const options: EngineOptions = { intraOpThreads: threads };
  const so = sessionOptions(options, 'cpu');
  const spec = earlyExitGraphSpec(m);
  const costs = m.exits.map((e) => e.macs);
  const cache = new ThresholdCache({ calibration: await readBundleOutputs(bundle, 'calibration'), costs });
  const policy = cache.get(BUDGET * (costs[costs.length - 1] as number), { score: 'margin' });
  return {
    bundle,
    full: await ort.InferenceSession.create(path.join(dir, m.reference?.file ?? 'full.onnx'), so),
    graph: await openEarlyExitGraph(ort, path.join(dir, spec.file), spec, so),
    engine: await createEngine(bundle, options),
    routing: { thresholds: policy.thresholds, scoring: policy.scoring },
    m: spec.exits,
    k: spec.classes,
    imageSize: spec.inputDims.reduce((a, b) => a * b, 1),
  };
}

interface Row {
  batch: number;
  cells: Array<string | number>;
}

async function benchBundle(dir: string, o: BenchOptions, threads: number): Promise<{ name: string; rows: Row[]; notes: string[] }> {
  const md = await openModels(dir, threads);
  const name = md.bundle.manifest.name;
  const reps = o.quick ? 2 : 7;
  const data = fmnistTensor(md.bundle.manifest.input, o.quick ? 64 : 512);
  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    for (const batch of BATCHES) {
      // Batch 1 is slow per image: fewer images keep the run short.
      const n = Math.min(data.images, o.quick ? 4 * batch : batch === 1 ? 128 : 512);
      const passes = new Map<string, Pass[]>();
      const keep =
        (key: string, pass: () => Promise<Pass>): Variant<Pass>['run'] =>
        async () => {
          const p = await pass();
          passes.set(key, [...(passes.get(key) ?? []), p]);
          return p;
        };
      const variants: Array<Variant<Pass>> = [
        { name: 'full', run: keep('full', () => fullPass(md, data.input, n, batch)) },
        { name: 'graph-all', run: keep('graph-all', () => graphPass(md, data.input, n, batch, undefined)) },
        { name: 'graph', run: keep('graph', () => graphPass(md, data.input, n, batch, md.routing)) },
        { name: 'chain', run: keep('chain', () => chainPass(md, data.input, n, batch, md.routing)) },
        { name: 'chain-all', run: keep('chain-all', () => chainPass(md, data.input, n, batch, undefined)) },
      ];
      for (const v of variants) await v.run(); // warm-up: sessions, allocators, thread pools
      passes.clear();
      const t = await interleave(variants, reps);
      const timed = (key: string): Timed<Pass> => t.get(key) as Timed<Pass>;
      const ips = (key: string): number => n / median(timed(key).seconds);
      const cpuMs = (key: string): number => (1000 * median((passes.get(key) ?? []).map((p) => p.cpu))) / n;

      // Per-stage seconds (every row through every stage, same run) and the exit shares at the budget.
      const stage = Array.from({ length: md.m }, (_, l) =>
        median((passes.get('chain-all') ?? []).map((p) => (p.stageSeconds?.[l] ?? 0) / n)),
      );
      const total = stage.reduce((a, b) => a + b, 0);
      const exits = timed('graph').last.exits ?? new Int32Array(0);
      const share = stage.map((_, l) => exits.filter((e) => e === l).length / exits.length);
      // Fraction of the plain time an ideal early exit would take: stage time up to each row's exit.
      let fraction = 0;
      let cumulative = 0;
      for (let l = 0; l < md.m; l++) {
        cumulative += stage[l] as number;
        fraction += ((share[l] as number) * cumulative) / total;
      }
      const idealIps = ips('full') / fraction;
      const chainExits = timed('chain').last.exits ?? new Int32Array(0);
      const disagree = exits.filter((e, i) => e !== chainExits[i]).length;
      const vsFull = (key: string): string => `${fixed(speedup(timed('full'), timed(key)), 2)}×`;
      const cpuVsFull = (key: string): string => `${fixed(cpuMs(key) / cpuMs('full'), 2)}×`;
      const line = (label: string, key: string): Row => ({
        batch,
        cells: [batch, label, fixed(ips(key), 0), vsFull(key), fixed(cpuMs(key), 3), cpuVsFull(key)],
      });
      rows.push(
        line('full.onnx (one graph, no exits)', 'full'),
        line('early-exit.onnx, every row to the last exit', 'graph-all'),
        line(`early-exit.onnx, EERO ${BUDGET}`, 'graph'),
        line(`stage chain, EERO ${BUDGET}`, 'chain'),
        line('stage chain, every row to the last exit', 'chain-all'),
        { batch, cells: [batch, `time-based ideal, EERO ${BUDGET}`, fixed(idealIps, 0), `${fixed(1 / fraction, 2)}×`, '', ''] },
      );
      notes.push(
        `batch ${batch} (${n} images): early-exit.onnx / stage chain at EERO ${BUDGET} = ${fixed(speedup(timed('chain'), timed('graph')), 2)}× ` +
          `(speed-up of the graph over the chain); early-exit.onnx / ideal = ${fixed(ips('graph') / idealIps, 2)}; ` +
          `exit shares ${share.map((s) => fixed(100 * s, 0)).join('/')} %; stage ms per image ${stage.map((s) => fixed(1000 * s, 3)).join(', ')}; ` +
          `rows routed differently by the graph and the chain: ${disagree}.`,
      );
    }
  } finally {
    await Promise.all([md.full.release(), md.graph.release(), md.engine.dispose()]);
  }
  return { name, rows, notes };
}

export async function runSpeedEarlyExit(o: BenchOptions): Promise<string> {
  const threads = o.threads ?? 2;
  const load0 = loadavg()[0] as number;
  const sections: string[] = [];
  for (const dir of o.bundles) {
    const b = await benchBundle(dir, o, threads);
    sections.push(
      `## ${b.name}`,
      '',
      markdownTable(
        ['batch', 'variant', 'images/s', 'speed-up vs full.onnx', 'CPU ms / image', 'CPU vs full.onnx'],
        b.rows.map((r) => r.cells),
      ),
      '',
      ...b.notes.map((n) => `- ${n}`),
      '',
    );
  }
  const md = [
    '# early-exit.onnx: the whole early-exit network in one onnxruntime call',
    '',
    ...provenance(o.quick, [
      `${threads} intra-op threads, sequential execution, no spinning (the engine's session options), graph optimisation 'all'. ` +
        `Every repetition runs every variant once in rotated order (${o.quick ? 2 : 7} repetitions); images/s from the median seconds, ` +
        `speed-ups are medians of within-repetition ratios, CPU is process.cpuUsage (all threads) per image. ` +
        `EERO ${BUDGET}: ThresholdCache on the calibration outputs, margin score, budget ${BUDGET} of the full MACs; row keys are image indices. ` +
        `early-exit.onnx's time includes building its thresholds and tie-noise inputs. Stage chain: the engine (one session per stage) with ` +
        `the router's rule (softmaxRow + scoreRow >= threshold) between stages. Time-based ideal = full.onnx time x sum over exits of ` +
        `share x cumulative stage seconds / total stage seconds (stage seconds: the every-row chain's session times, same run). ` +
        `Load average: ${fixed(load0, 2)} at the start, ${fixed(loadavg()[0] as number, 2)} at the end.`,
    ]),
    ...sections,
  ].join('\n');
  process.stdout.write(`${md}\n`);
  return md;
}

runMain(module, runSpeedEarlyExit);

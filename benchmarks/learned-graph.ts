/**
 * Issue 18: score=learned on the one early-exit graph against the stage chain, in one interleaved run,
 * batch 64, budget 0.3 of the full cost (where both bundles choose the learned rule), no ledger: `runDirect` (what the service runs for a batch,
 * results built) on the bundle served with the graph and served with the chain only. Beside them, what
 * the learned score's nodes cost a run by another score: every score the graph offers is computed at
 * every exit (score_kind picks one), so the margin is timed on the shipped graph and on the same bundle
 * recomposed without its learned score (support/compose_without_learned.py); the same rows leave at the
 * same exits. Wall and CPU time (process user + system) per pass; ratios are medians of per-repetition ratios.
 * Usage: npx tsc -p tsconfig.json && node dist/benchmarks/learned-graph.js [--quick] [--threads N] [--bundle DIR ...]
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import * as path from 'node:path';
import { loadModel, runDirect, type LoadedModel, type RouteChoice } from '../src/pipeline';
import { fmnistTensor } from './support/fmnist-tensor';
import { median } from './support/format';
import { interleave } from './support/interleave';
import { DATA_DIR, REPO_ROOT, runMain, type BenchOptions } from './support/options';
import { provenance, writeOutput } from './support/report';

const BATCH = 64;
const BUDGET = 0.3;
const TOOLKIT = path.join(REPO_ROOT, 'models', 'toolkit');

interface Variant {
  name: string;
  model: LoadedModel;
  choice: RouteChoice;
  /** The path this variant must run every batch on. */
  path: 'graph' | 'stages';
}

interface Pass {
  exits: Int32Array;
  labels: Int32Array;
  cpuMs: number;
  graphCalls: number;
}

/** Counts the model's early-exit graph calls (a variant that should run the graph must not fall back to the chain). */
function countGraphCalls(model: LoadedModel): () => number {
  const ee = model.engine.earlyExit;
  let calls = 0;
  if (ee) {
    const run = ee.run.bind(ee);
    (ee as { run: typeof run }).run = (...args) => {
      calls++;
      return run(...args);
    };
  }
  return () => calls;
}

async function pass(v: Variant, calls: () => number, input: Float32Array, images: number): Promise<Pass> {
  const size = input.length / images;
  const exits = new Int32Array(images);
  const labels = new Int32Array(images);
  const calls0 = calls();
  const cpu0 = process.cpuUsage();
  for (let start = 0; start < images; start += BATCH) {
    const rows = Math.min(BATCH, images - start);
    const results = await runDirect(v.model, input.subarray(start * size, (start + rows) * size), v.choice, start);
    results.forEach((r, i) => {
      exits[start + i] = r.exit - 1;
      labels[start + i] = r.classIndex;
    });
  }
  const cpu = process.cpuUsage(cpu0);
  return { exits, labels, cpuMs: (cpu.user + cpu.system) / 1000, graphCalls: calls() - calls0 };
}

const shares = (exits: Int32Array, m: number): string =>
  Array.from({ length: m }, (_, l) => Math.round((100 * exits.filter((e) => e === l).length) / exits.length)).join('/');

const same = (a: Pass, b: Pass): boolean => a.exits.every((e, i) => e === b.exits[i] && a.labels[i] === b.labels[i]);

async function benchBundle(dir: string, o: BenchOptions): Promise<{ rows: string[]; nodes: string }> {
  const threads = o.threads ?? 1;
  const name = path.basename(dir);
  const baselineDir = path.join(DATA_DIR, `${name}-without-learned`);
  execFileSync('/usr/bin/python3', [path.join(REPO_ROOT, 'benchmarks', 'support', 'compose_without_learned.py'), dir, baselineDir], {
    env: { ...process.env, PYTHONPATH: TOOLKIT },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  // Served at budget 1 (the limit) so that 0.5 can be asked; ledger off. The graph from 2 rows (the default rule).
  const settings = { budget: { fraction: 1 }, ledger: false } as const;
  const open = (d: string, graph: 'auto' | 'stages'): Promise<LoadedModel> =>
    loadModel(d, settings, { engine: { intraOpThreads: threads, graph }, paths: { graphFrom: 2 } });
  const [graph, chain, without] = [await open(dir, 'auto'), await open(dir, 'stages'), await open(baselineDir, 'auto')];
  try {
    const learned = { score: 'learned' as const, budget: { fraction: BUDGET } };
    const margin = { budget: { fraction: BUDGET } };
    const variants: Variant[] = [
      { name: 'learned, stage chain', model: chain, choice: chain.routing.choose(learned), path: 'stages' },
      { name: 'learned, one graph', model: graph, choice: graph.routing.choose(learned), path: 'graph' },
      { name: 'margin, one graph (shipped, with the learned nodes)', model: graph, choice: graph.routing.choose(margin), path: 'graph' },
      { name: 'margin, one graph without the learned nodes', model: without, choice: without.routing.choose(margin), path: 'graph' },
    ];
    if (variants[0]?.choice.rule !== 'learned' || variants[1]?.choice.rule !== 'learned')
      throw new Error(`${name}: the learned rule is not the choice at ${BUDGET}`);
    const calls = new Map<LoadedModel, () => number>([graph, chain, without].map((m) => [m, countGraphCalls(m)]));
    const images = o.quick ? 2 * BATCH : 8 * BATCH;
    const data = fmnistTensor(graph.manifest.input, images);
    const run = (v: Variant): Promise<Pass> => pass(v, calls.get(v.model) as () => number, data.input, images);
    for (const v of variants) await run(v); // warm-up
    const cpu = new Map<string, number[]>(variants.map((v) => [v.name, []]));
    const timed = await interleave(
      variants.map((v) => ({
        name: v.name,
        run: async () => {
          const p = await run(v);
          cpu.get(v.name)?.push(p.cpuMs);
          const want = v.path === 'graph' ? Math.ceil(images / BATCH) : 0;
          if (p.graphCalls !== want) throw new Error(`${name}: ${v.name} made ${p.graphCalls} graph calls, not ${want}`);
          return p;
        },
      })),
      o.quick ? 2 : 20,
    );
    const last = (i: number): Pass => timed.get(variants[i]?.name as string)?.last as Pass;
    if (!same(last(0), last(1))) throw new Error(`${name}: the graph and the chain routed score=learned differently`);
    if (!same(last(2), last(3))) throw new Error(`${name}: the two margin graphs routed differently`);
    const m = graph.costs.costs.length;
    const full = graph.costs.costs[m - 1] as number;
    const ref = variants[0]?.name;
    const refSeconds = timed.get(ref)?.seconds as number[];
    const refCpu = cpu.get(ref) as number[];
    // The learned nodes' cost, directly: the shipped graph against the one without them, repetition by repetition.
    const [withNodes, withoutNodes] = [variants[2]?.name as string, variants[3]?.name as string];
    const wallWith = timed.get(withNodes)?.seconds as number[];
    const wallWithout = timed.get(withoutNodes)?.seconds as number[];
    const cpuWithout = cpu.get(withoutNodes) as number[];
    const nodeWall = median(wallWith.map((s, i) => s / (wallWithout[i] as number)));
    const nodeCpu = median((cpu.get(withNodes) as number[]).map((c, i) => c / (cpuWithout[i] as number)));
    const nodes = `| ${name} | x${nodeWall.toFixed(3)} | x${nodeCpu.toFixed(3)} |`;
    const rows = variants.map((v) => {
      const t = timed.get(v.name);
      const c = cpu.get(v.name) as number[];
      if (!t) throw new Error('missing timing');
      const speedup = median(t.seconds.map((s, i) => (refSeconds[i] as number) / s));
      const cpuRatio = median(c.map((x, i) => x / (refCpu[i] as number)));
      const cost = t.last.exits.reduce((a, e) => a + (graph.costs.costs[e] as number), 0) / images / full;
      return (
        `| ${name} | ${v.name} | ${(images / median(t.seconds)).toFixed(0)} | x${speedup.toFixed(2)} | ` +
        `${(median(c) / images).toFixed(3)} | x${cpuRatio.toFixed(2)} | ${(100 * cost).toFixed(1)} | ${shares(t.last.exits, m)} |`
      );
    });
    return { rows, nodes };
  } finally {
    await Promise.all([graph.dispose(), chain.dispose(), without.dispose()]);
  }
}

export async function runLearnedGraph(o: BenchOptions): Promise<string> {
  const load0 = loadavg()[0] as number;
  const rows: string[] = [];
  const nodes: string[] = [];
  for (const dir of o.bundles) {
    const b = await benchBundle(dir, o);
    rows.push(...b.rows);
    nodes.push(b.nodes);
  }
  const reps = o.quick ? 2 : 20;
  const text = [
    '# score=learned: the one graph against the stage chain',
    '',
    ...provenance(o.quick, [
      `Command: \`npx tsc -p tsconfig.json && node dist/benchmarks/learned-graph.js${o.quick ? ' --quick' : ''}\` ` +
        `(onnxruntime intra-op threads: ${o.threads ?? 1}; load average ${load0.toFixed(1)} at the start).`,
    ]),
    `Fashion-MNIST test images (${o.quick ? 2 : 8} batches of ${BATCH} a pass, preprocessing not timed), budget ${BUDGET} of the full cost, ` +
      `ledger off, ${reps} interleaved repetitions. Each pass is \`runDirect\` (the service's batch runner, results built) on the bundle ` +
      'served with its one graph (the graph from 2 rows) or with the stage chain only; every graph variant made one graph call per ' +
      'batch, and the graph and the chain gave every image the same exit and label. "x" columns are medians of per-repetition ratios ' +
      'to the first row of the bundle: the speed-up (chain time / time) and the CPU ratio (CPU / chain CPU). The margin rows show what ' +
      "the learned score's nodes cost a run by another score (every score is computed at every exit): the shipped graph against the " +
      'bundle recomposed without its learned score, both routing the same rows to the same exits.',
    '',
    '| bundle | score, path | images/s | speed-up | CPU ms per image | CPU ratio | realised cost % | exit shares % |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    "The learned nodes' cost in a margin run: the shipped graph's time over the graph without them (medians of per-repetition ratios).",
    '',
    '| bundle | wall | CPU |',
    '|---|---|---|',
    ...nodes,
  ].join('\n');
  const file = writeOutput(o.outDir, 'learned-graph.md', text);
  process.stderr.write(`${text}\n\nwrote ${file}\n`);
  return file;
}

runMain(module, runLearnedGraph);

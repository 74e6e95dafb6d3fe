/**
 * What splitting a network into stage graphs costs, with no early exit at
 * all: every row runs every stage (onExit keeps all rows) against the same
 * network as one graph (the manifest's full.onnx), interleaved, at batch 64,
 * under onnxruntime's 'all' optimisation level (with the blocked NCHWc conv
 * layout) and 'extended' (without it). At each stage boundary the features
 * return to plain NCHW and the exit head runs on them; the one graph stays in
 * the blocked layout throughout.
 * Usage: node dist/benchmarks/stage-overhead.js [--quick] [--out DIR] [--bundle DIR ...]
 */
import * as path from 'node:path';
import { markdownTable } from '../src/cli/report/tables';
import { loadBundle } from '../src/config';
import { createEngine, type Engine, type EngineOptions } from '../src/engine';
import { median } from './support/format';
import { interleave, speedup } from './support/interleave';
import { runMain, type BenchOptions } from './support/options';
import { provenance, writeOutput, type SectionResult } from './support/report';
import { referenceBundle } from './support/synthetic-bundle';

const LEVELS: Array<NonNullable<EngineOptions['graphOptimization']>> = ['all', 'extended'];

async function timeAll(engine: Engine, input: Float32Array, batch: number, rounds: number): Promise<void> {
  const stay = (_l: number, _z: Float32Array, rows: Int32Array): Uint8Array => new Uint8Array(rows.length);
  for (let i = 0; i < rounds; i++) await engine.run(input, batch, stay);
}

export async function runStageOverhead(o: BenchOptions): Promise<SectionResult> {
  const batch = 64;
  const reps = o.quick ? 2 : 7;
  const rounds = o.quick ? 2 : 10;
  const rows: Array<Array<string | number>> = [];
  const headlines: string[] = [];
  for (const dir of o.bundles) {
    const bundle = await loadBundle(dir);
    const input = new Float32Array(batch * bundle.manifest.input.channels * bundle.manifest.input.height * bundle.manifest.input.width).map(
      (_, i) => Math.sin(i),
    );
    for (const level of LEVELS) {
      const options: EngineOptions = { graphOptimization: level, ...(o.threads ? { intraOpThreads: o.threads } : {}) };
      const [stages, full] = await Promise.all([createEngine(bundle, options), createEngine(referenceBundle(bundle), options)]);
      try {
        await timeAll(stages, input, batch, 2);
        await timeAll(full, input, batch, 2);
        const t = await interleave(
          [
            { name: 'one graph', run: () => timeAll(full, input, batch, rounds) },
            { name: 'stages', run: () => timeAll(stages, input, batch, rounds) },
          ],
          reps,
        );
        const one = t.get('one graph');
        const st = t.get('stages');
        if (!one || !st) continue;
        const msOf = (s: number[]): number => (1000 * median(s)) / rounds;
        const slowdown = 1 / speedup(one, st);
        rows.push([bundle.manifest.name, level, +msOf(one.seconds).toFixed(1), +msOf(st.seconds).toFixed(1), `${slowdown.toFixed(2)}×`]);
        if (level === 'all')
          headlines.push(
            `${bundle.manifest.name}: every row through every stage takes ${slowdown.toFixed(2)}× the one graph's time at batch 64 ('all')`,
          );
      } finally {
        await Promise.all([stages.dispose(), full.dispose()]);
      }
    }
  }
  const md = [
    '# Stage boundaries: the cost of splitting the network, with no early exit',
    '',
    ...provenance(o.quick, [
      `Batch ${batch}; every row runs every stage; ${reps} interleaved repetitions of ${rounds} batches; milliseconds per batch are medians. ` +
        "'all' is onnxruntime's full optimisation (the default, with the blocked NCHWc conv layout); 'extended' leaves the layout out.",
    ]),
    markdownTable(['bundle', 'optimisation', 'one graph ms/batch', 'stage-wise ms/batch', 'stage-wise / one graph'], rows),
    '',
    "Reading: under 'all' the one graph keeps its activations in the blocked layout from the first conv to the last; the stage graphs must return them to plain NCHW at every boundary (the features are an output and the exit head reads them) and re-block them in the next stage. Without the blocked layout ('extended') both are slower and the gap is small, so the gap is the layout round trips, which weigh most on small feature maps.",
  ].join('\n');
  const file = writeOutput(o.outDir, 'stage-overhead.md', md);
  process.stderr.write(`stage-overhead: wrote ${path.relative(process.cwd(), file)}\n`);
  return { section: 'stage-overhead', file, extraFiles: [], headlines, warnings: [] };
}

runMain(module, runStageOverhead);

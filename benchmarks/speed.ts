/**
 * Section 2: speed, without HTTP. For both bundles and the ImageNet-shaped
 * ResNet-18, at batch 1, 16 and 64: the plain one graph, the early-exit graph
 * routed and with every row through every exit, the stage chain likewise,
 * runBatch (the service path), the MAC ideal and the time-based ideal, in one
 * run of finely interleaved variants (speed-paths.ts); the targets judged;
 * then the CPU's peak and preprocessing. All speed figures are ratios within
 * one run; absolute images/s are for orientation only.
 * Usage: node dist/benchmarks/speed.js [--quick] [--out DIR] [--threads N] [--bundle DIR ...]
 */
import { availableParallelism, loadavg } from 'node:os';
import { loadBundle } from '../src/config';
import { markdownTable } from '../src/cli/report/tables';
import { createEngine, isSmallNetwork, SMALL_NETWORK_MACS, type Engine } from '../src/engine';
import { loadModel, type LoadedModel } from '../src/pipeline';
import { GRAPH_MIN_ROWS } from '../src/pipeline/run-batch';
import { cpuPeak, type Peak } from './speed-peak';
import {
  eeroRouting,
  measureBatch,
  VARIANT_LABELS,
  type BatchResult,
  type Subject,
  type VariantKey,
  type VariantResult,
} from './speed-paths';
import { preprocessSpeed, type PreprocessRow } from './speed-preprocess';
import { openR18 } from './speed-r18';
import { fmnistTensor } from './support/fmnist-tensor';
import { fixed, pct, si } from './support/format';
import { runMain, type BenchOptions } from './support/options';
import { provenance, shout, writeOutput, type SectionResult } from './support/report';
import { referenceBundle } from './support/synthetic-bundle';

export const BATCHES = [1, 16, 64];
const BUDGET = 0.5;

/** The speed targets the engine is held to (judged in every run, with their margins). */
export const TARGETS = {
  /** Budget 0.5, batch 64, one graph: speed-up over the plain graph, and share of the time-based ideal. */
  speedupAt64: 1.5,
  idealAt64: 0.9,
  /** Every row through every exit, one graph: time / the plain graph's time, at most. */
  everyRow: 1.1,
  /** Batch 1, the engine path (runBatch's choice): share of the time-based ideal; the ImageNet-shaped ResNet-18's. */
  idealAt1: 0.75,
  idealAt1R18: 0.95,
};

export interface SubjectSpeed {
  name: string;
  fullMacs: number;
  untrained: boolean;
  /** The engine's isSmallNetwork: a single row takes the chain (runBatch's GRAPH_MIN_ROWS) on single-thread sessions. */
  small: boolean;
  note: string;
  batches: BatchResult[];
}

export interface Check {
  subject: string;
  batch: number;
  what: string;
  measured: number;
  target: number;
  /** 'min': measured must reach target; 'max': must not exceed it. */
  kind: 'min' | 'max';
  met: boolean;
}

export interface SpeedResult extends SectionResult {
  subjects: SubjectSpeed[];
  checks: Check[];
  peak: Peak;
  preprocess: PreprocessRow[];
}

interface Sizes {
  images: Record<number, number>;
  reps: number;
}

const BUNDLE_SIZES: Sizes = { images: { 1: 128, 16: 512, 64: 512 }, reps: 5 };
const R18_SIZES: Sizes = { images: { 1: 8, 16: 32, 64: 64 }, reps: 3 };
const QUICK_SIZES: Sizes = { images: { 1: 4, 16: 32, 64: 64 }, reps: 1 };

async function measureSubject(s: Subject, sizes: Sizes, untrained: boolean, note: string): Promise<SubjectSpeed> {
  const batches: BatchResult[] = [];
  for (const b of BATCHES) {
    const r = await measureBatch(s, b, sizes.images[b] as number, sizes.reps);
    process.stderr.write(`speed: ${s.name} batch ${b}: ${r.images} images x ${r.variants.length} variants x ${r.reps} reps\n`);
    batches.push(r);
  }
  return { name: s.name, fullMacs: s.macs[s.macs.length - 1] as number, untrained, small: isSmallNetwork(s.staged.bundle), note, batches };
}

async function bundleSubject(dir: string, quick: boolean, threads: number): Promise<SubjectSpeed> {
  const sizes = quick ? QUICK_SIZES : BUNDLE_SIZES;
  const model: LoadedModel = await loadModel(dir, { budget: { fraction: BUDGET }, ledger: false }, { engine: { intraOpThreads: threads } });
  const reference: Engine = await createEngine(referenceBundle(await loadBundle(dir)), { intraOpThreads: threads });
  try {
    const choice = model.routing.choose({ budget: { fraction: BUDGET } });
    const data = fmnistTensor(model.manifest.input, Math.max(...Object.values(sizes.images)));
    const subject: Subject = {
      name: model.name,
      staged: model.engine,
      reference,
      served: { model, choice },
      macs: Array.from(model.costs.macs),
      input: data.input,
      images: data.images,
      routing: eeroRouting(choice),
    };
    return await measureSubject(
      subject,
      sizes,
      false,
      `Fashion-MNIST test images (the idx files, normalised as the manifest says; preprocessing not timed). Routed: EERO at budget ${BUDGET} (margin; the served model's thresholds; row keys = image indices).`,
    );
  } finally {
    await Promise.all([model.dispose(), reference.dispose()]);
  }
}

async function r18Subject(quick: boolean, threads: number): Promise<SubjectSpeed> {
  const sizes = quick ? QUICK_SIZES : R18_SIZES;
  const r = await openR18({ quick, threads });
  try {
    const images = Math.max(...Object.values(sizes.images));
    const input = Float32Array.from({ length: images * r.staged.imageSize }, (_, i) => Math.sin(i * 0.37));
    const subject: Subject = {
      name: quick ? `resnet18-untrained-${r.size}` : 'resnet18-imagenet-shaped',
      staged: r.staged,
      reference: r.reference,
      macs: r.macs,
      input,
      images,
      routing: { kind: 'fixed' },
    };
    const made = r.made.length ? ` (${r.made.join(' and ')} in this run)` : '';
    return await measureSubject(
      subject,
      sizes,
      true,
      `ResNet-18, ${r.size}x${r.size}, ${r.classes} classes, UNTRAINED weights (\`eero_toolkit export-untrained\`, early-exit.onnx by support/compose_untrained.py into ${r.dir}${made}); exits after its ${r.macs.length} stages at ${r.macs.map((m) => si(m)).join(', ')} MACs. Untrained confidences mean nothing, so the routed mix is FIXED: row r leaves at exit r mod ${r.macs.length} (an equal share at each), by a -inf threshold for the graph and by onExit for the chain.`,
    );
  } finally {
    await Promise.all([r.staged.dispose(), r.reference.dispose()]);
  }
}

const variantOf = (b: BatchResult, key: VariantKey): VariantResult | undefined => b.variants.find((v) => v.key === key);

/** Whether runBatch runs the one graph at this batch size (else the chain): from GRAPH_MIN_ROWS rows, or always for a large network. */
const graphPath = (s: SubjectSpeed, batch: number): boolean => batch >= GRAPH_MIN_ROWS || !s.small;

/** What the service runs at this batch size: runBatch when measured, else the variant runBatch would run. */
function enginePath(s: SubjectSpeed, b: BatchResult): VariantResult {
  return variantOf(b, 'engine') ?? (variantOf(b, graphPath(s, b.batch) ? 'graph' : 'chain') as VariantResult);
}

function checksOf(s: SubjectSpeed): Check[] {
  const out: Check[] = [];
  const check = (batch: number, what: string, measured: number, target: number, kind: 'min' | 'max'): void => {
    out.push({ subject: s.name, batch, what, measured, target, kind, met: kind === 'min' ? measured >= target : measured <= target });
  };
  for (const b of s.batches) {
    const graph = variantOf(b, 'graph') as VariantResult;
    const all = variantOf(b, 'graph-all') as VariantResult;
    if (b.batch === 64 && !s.untrained) {
      check(64, `one graph at EERO ${BUDGET}: speed-up over the plain graph`, graph.speedup, TARGETS.speedupAt64, 'min');
      check(64, `one graph at EERO ${BUDGET}: share of the time-based ideal`, graph.speedup / b.timeIdeal, TARGETS.idealAt64, 'min');
    }
    check(b.batch, 'one graph, every row through every exit: time / plain graph', 1 / all.speedup, TARGETS.everyRow, 'max');
    if (b.batch === 1) {
      const path = enginePath(s, b);
      const target = s.untrained ? TARGETS.idealAt1R18 : TARGETS.idealAt1;
      const which = graphPath(s, 1) ? 'the one graph' : 'the stage chain';
      check(
        1,
        `engine path (${path.key === 'engine' ? 'runBatch: ' : ''}${which} at 1 row): share of the time-based ideal`,
        path.speedup / b.timeIdeal,
        target,
        'min',
      );
    }
  }
  return out;
}

function subjectTable(s: SubjectSpeed): string {
  const rows: Array<Array<string | number>> = [];
  for (const b of s.batches) {
    for (const v of b.variants) {
      const routed = v.key === 'graph' || v.key === 'chain' || v.key === 'engine';
      rows.push([
        b.batch,
        VARIANT_LABELS[v.key] + (v.key === 'engine' ? ` = ${graphPath(s, b.batch) ? 'graph' : 'chain'}` : ''),
        fixed(v.imagesPerSecond, 0),
        `${fixed(v.speedup, 2)}×`,
        fixed(v.cpuMsPerImage, 3),
        `${fixed(v.cpuRatio, 2)}×`,
        pct(v.macFraction, 1),
        routed ? pct(v.speedup / b.timeIdeal, 0) + '%' : '',
        routed ? pct(v.speedup / b.macIdeal, 0) + '%' : '',
      ]);
    }
    rows.push([b.batch, 'ideal: time-based / MACs', '', `${fixed(b.timeIdeal, 2)}× / ${fixed(b.macIdeal, 2)}×`, '', '', '', '', '']);
  }
  return markdownTable(
    [
      'batch',
      'variant',
      'images/s',
      'speed-up vs plain (wall)',
      'CPU ms / image',
      'CPU vs plain',
      'MACs %',
      'of time ideal',
      'of MAC ideal',
    ],
    rows,
  );
}

function batchNotes(s: SubjectSpeed): string[] {
  return s.batches.map(
    (b) =>
      `- batch ${b.batch} (${b.images} images, ${b.reps} reps, load ${fixed(b.load[0], 2)} → ${fixed(b.load[1], 2)}): exit shares ${b.shares.map((x) => fixed(100 * x, 0)).join('/')} %; ` +
      `every-row chain session ms per image by stage ${b.stageMs.map((x) => fixed(x, 3)).join(', ')}; ` +
      `rows routed to another exit than the chain: graph ${b.mismatches.graph}${s.untrained ? '' : `, runBatch ${b.mismatches.engine}`}.`,
  );
}

function checkTable(checks: Check[]): string {
  return markdownTable(
    ['network', 'batch', 'target', 'measured', 'wanted', 'margin', 'verdict'],
    checks.map((c) => [
      c.subject,
      c.batch,
      c.what,
      c.what.includes('share') ? pct(c.measured, 0) + '%' : `${fixed(c.measured, 2)}×`,
      `${c.kind === 'min' ? '≥' : '≤'} ${c.what.includes('share') ? pct(c.target, 0) + '%' : `${fixed(c.target, 2)}×`}`,
      c.what.includes('share')
        ? `${c.measured >= c.target ? '+' : ''}${fixed(100 * (c.measured - c.target), 0)} pts`
        : `${c.kind === 'max' ? (c.measured <= c.target ? '-' : '+') : c.measured >= c.target ? '+' : '-'}${fixed(100 * Math.abs(c.measured / c.target - 1), 0)}%`,
      c.met ? '✅ met' : '❌ missed',
    ]),
  );
}

function peakLines(peak: Peak, subjects: SubjectSpeed[]): string[] {
  const achieved: Array<[string, number]> = subjects.flatMap((s) => {
    const b = s.batches[s.batches.length - 1];
    const full = b ? variantOf(b, 'full') : undefined;
    return b && full ? [[`${s.name} plain graph, batch ${b.batch}`, full.imagesPerSecond * s.fullMacs] as [string, number]] : [];
  });
  const above = achieved.filter(([, v]) => v > peak.measuredMacsPerSecond).map(([n]) => n);
  return [
    ...(above.length
      ? [
          `- **Note:** ${above.join(', ')} ran faster than the MatMul "peak": the single MatMul did not reach this CPU's peak in this run (other load, or MLAS's convolution kernels beat its GEMM); read the theoretical figure as the ceiling.`,
        ]
      : []),
    `- Measured peak: **${si(peak.measuredMacsPerSecond)}MAC/s** (${peak.matmul || 'n/a'}).`,
    `- Theoretical FMA peak: **${si(peak.theoreticalMacsPerSecond)}MAC/s** = ${peak.theory}.`,
    '',
    markdownTable(
      ['model', 'achieved MAC/s', '% of measured peak', '% of theoretical peak'],
      achieved.map(([name, v]) => [name, si(v), pct(v / peak.measuredMacsPerSecond, 1), pct(v / peak.theoreticalMacsPerSecond, 1)]),
    ),
  ];
}

export async function runSpeed(o: BenchOptions): Promise<SpeedResult> {
  const threads = o.threads ?? availableParallelism();
  const load0 = loadavg()[0] as number;
  const subjects: SubjectSpeed[] = [];
  for (const dir of o.bundles) subjects.push(await bundleSubject(dir, o.quick, threads));
  subjects.push(await r18Subject(o.quick, threads));
  const load1 = loadavg()[0] as number;
  const peak = await cpuPeak(o.quick, threads);
  const fmnistSpec = (await loadBundle(o.bundles[0] as string, { verify: false })).manifest.input;
  const preprocess = await preprocessSpeed({ quick: o.quick, fmnistSpec });
  const checks = subjects.flatMap(checksOf);
  const warnings: string[] = [];
  for (const s of subjects)
    for (const b of s.batches)
      if (b.mismatches.graph || b.mismatches.engine)
        warnings.push(`${s.name} batch ${b.batch}: ${b.mismatches.graph + b.mismatches.engine} rows routed differently from the chain`);
  if (!o.quick)
    for (const c of checks.filter((x) => !x.met))
      warnings.push(
        `${c.subject} batch ${c.batch}: ${c.what} ${c.what.includes('share') ? pct(c.measured, 0) + '%' : fixed(c.measured, 2) + '×'} misses ${c.kind === 'min' ? '≥' : '≤'} ${c.what.includes('share') ? pct(c.target, 0) + '%' : fixed(c.target, 2) + '×'}`,
      );
  for (const w of warnings) shout(w);
  const tunables = process.env.GLIBC_TUNABLES ? ` GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES}.` : '';
  const text = [
    '# Speed: early exits against the plain one graph',
    '',
    ...provenance(o.quick, [
      `${threads} onnxruntime intra-op threads (batches of one row of a network of at most ${si(SMALL_NETWORK_MACS)} MACs: the engine's single-thread sessions for the chain and the plain graph, EngineOptions.singleRowThreads; the early-exit graph keeps ${threads}). ` +
        'Variants finely interleaved: every variant runs the same batch in turn, in a fresh seeded order for every batch, batch after batch, repetition after repetition; images/s from the median batch, speed-ups and CPU ratios are medians of the per-batch ratios to the plain graph; CPU is process.cpuUsage (every thread) per image. ' +
        "Plain graph: the manifest's `reference` (full.onnx) through `createEngine` as a one-stage bundle. One graph: the engine's early-exit.onnx, its per-row thresholds and tie noise built as graph-batch.ts builds them (measured), routing outputs only. Stage chain: the engine, the router's rule (softmaxRow + scoreRow >= threshold) in onExit. runBatch: `runDirect` on the served model (ledger off; results built): the one graph from " +
        `${GRAPH_MIN_ROWS} rows, the chain below for a network of at most ${si(SMALL_NETWORK_MACS)} MACs (a larger one's single row takes the graph too). ` +
        "MAC ideal = full MACs / realised MACs. Time-based ideal = 1 / Σ_l share_l × cumulative stage seconds_l / total stage seconds, the stage seconds being the every-row chain's session times in the same run (so the cumulative seconds of the last exit stand for the plain graph's time). " +
        `Load average (1 min) ${fixed(load0, 2)} at the start, ${fixed(load1, 2)} after the engine runs (2 cores, shared).${tunables}`,
    ]),
    '## Targets',
    '',
    o.quick ? 'Not judged in quick mode (the table is for the smoke test).' : 'Judged on this run:',
    '',
    checkTable(checks),
    '',
    ...subjects.flatMap((s) => [`## ${s.name} (${si(s.fullMacs)} MACs)`, '', s.note, '', subjectTable(s), '', ...batchNotes(s), '']),
    "## The CPU's peak and what the plain graphs reach",
    '',
    ...peakLines(peak, subjects),
    '',
    '## Preprocessing (sharp, through src/preprocess)',
    '',
    `Images/s with ${availableParallelism()} images in flight and sharp set up as the service does (\`configureSharp()\`: one libvips thread per image, operation cache off); the decode-only floor is sharp decoding the same bytes to raw pixels (no resize, no colour conversion, no normalisation).`,
    '',
    markdownTable(
      ['image', 'target spec', 'preprocess images/s', 'decode-only images/s', 'preprocess / decode-only time'],
      preprocess.map((r) => [
        r.image,
        r.spec,
        fixed(r.imagesPerSecond, 1),
        fixed(r.decodeOnlyPerSecond, 1),
        `${fixed(r.decodeOnlyPerSecond / r.imagesPerSecond, 2)}×`,
      ]),
    ),
    '',
  ].join('\n');
  const file = writeOutput(o.outDir, 'speed.md', text);
  process.stdout.write(`speed: wrote ${file}\n`);
  const headlines = subjects.flatMap((s) => {
    const b64 = s.batches.find((b) => b.batch === 64);
    const b1 = s.batches.find((b) => b.batch === 1);
    const g = b64 ? variantOf(b64, 'graph') : undefined;
    const all = b64 ? variantOf(b64, 'graph-all') : undefined;
    return [
      b64 && g && all
        ? `${s.name}, batch 64: one graph ${s.untrained ? 'at the fixed equal mix' : `at EERO ${BUDGET}`} ${fixed(g.speedup, 2)}× the plain graph (time-based ideal ${fixed(b64.timeIdeal, 2)}×, ${pct(g.speedup / b64.timeIdeal, 0)}%; MAC ideal ${fixed(b64.macIdeal, 2)}×); every row through every exit ${fixed(1 / all.speedup, 2)}× its time`
        : `${s.name}: n/a`,
      ...(b1
        ? [
            `${s.name}, batch 1: engine path (${graphPath(s, 1) ? 'one graph' : 'stage chain'}) ${fixed(enginePath(s, b1).speedup, 2)}× (time-based ideal ${fixed(b1.timeIdeal, 2)}×, ${pct(enginePath(s, b1).speedup / b1.timeIdeal, 0)}%)`,
          ]
        : []),
    ];
  });
  headlines.push(`targets: ${checks.filter((c) => c.met).length} of ${checks.length} met${o.quick ? ' (quick mode: not judged)' : ''}`);
  headlines.push(`CPU peak: measured ${si(peak.measuredMacsPerSecond)}MAC/s, theoretical ${si(peak.theoreticalMacsPerSecond)}MAC/s`);
  return { section: 'speed', file, extraFiles: [], headlines, warnings, subjects, checks, peak, preprocess };
}

runMain(module, runSpeed);

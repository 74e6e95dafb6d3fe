/**
 * Section 2: speed, without HTTP. For both bundles and the ImageNet-shaped
 * ResNet-18, at batch 1, 16 and 64: the plain one graph, the early-exit graph
 * routed and with every row through every exit, the stage chain likewise,
 * runBatch (the service path), the MAC ideal and the time-based ideal, wall
 * time beside CPU time, the routed variants at EERO budgets 0.5, 0.25 and 1
 * (a bundle), all in one run of finely interleaved variants (speed-paths.ts);
 * the targets judged (speed-targets.ts); then the CPU's peak and
 * preprocessing. All speed figures are ratios within one run; absolute
 * images/s are for orientation only.
 * Usage: node dist/benchmarks/speed.js [--quick] [--out DIR] [--threads N] [--reps N] [--bundle DIR ...]
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { loadBundle } from '../src/config';
import { createEngine, isSmallNetwork, SMALL_NETWORK_MACS, type Engine } from '../src/engine';
import { describePaths, loadModel, type LoadedModel } from '../src/pipeline';
import { markdownTable } from '../src/cli/report/tables';
import { cpuPeak, type Peak } from './speed-peak';
import { eeroRouting, measureBatch, type BatchResult, type Mix, type Subject } from './speed-paths';
import { preprocessSpeed, type PreprocessRow } from './speed-preprocess';
import { openR18 } from './speed-r18';
import { batchNotes, peakLines, subjectTable, type SubjectSpeed } from './speed-tables';
import { checksOf, checkTable, describeCheck, enginePath, PRIMARY_BUDGET, variantOf, type Check } from './speed-targets';
import { fmnistTensor } from './support/fmnist-tensor';
import { fixed, pct, si } from './support/format';
import { runMain, type BenchOptions } from './support/options';
import { provenance, shout, writeOutput, type SectionResult } from './support/report';
import { referenceBundle } from './support/synthetic-bundle';

export const BATCHES = [1, 16, 64];
/** The routed budgets of a bundle, the primary (the targets') first. */
export const BUDGETS = [PRIMARY_BUDGET, 0.25, 1];

export { TARGETS } from './speed-targets';
export type { Check } from './speed-targets';
export type { SubjectSpeed } from './speed-tables';

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

async function measureSubject(
  s: Subject,
  sizes: Sizes,
  meta: { untrained: boolean; note: string; graphFrom: number; pathNote: string },
): Promise<SubjectSpeed> {
  const batches: BatchResult[] = [];
  for (const b of BATCHES) {
    const r = await measureBatch(s, b, sizes.images[b] as number, sizes.reps);
    process.stderr.write(`speed: ${s.name} batch ${b}: ${r.images} images x ${r.variants.length} variants x ${r.reps} reps\n`);
    batches.push(r);
  }
  return { name: s.name, fullMacs: s.macs[s.macs.length - 1] as number, batches, ...meta };
}

/** The sizes, with --reps in place of their repetitions. */
const withReps = (sizes: Sizes, reps: number | undefined): Sizes => (reps === undefined ? sizes : { ...sizes, reps });

async function bundleSubject(dir: string, quick: boolean, threads: number, reps: number | undefined): Promise<SubjectSpeed> {
  const sizes = withReps(quick ? QUICK_SIZES : BUNDLE_SIZES, reps);
  // Served at budget 1 (the limit), so that every budget below can be asked; the path choice measured as serve measures it.
  const model: LoadedModel = await loadModel(
    dir,
    { budget: { fraction: 1 }, ledger: false },
    { engine: { intraOpThreads: threads }, paths: quick ? { graphFrom: 2 } : { measureUpTo: Math.max(...BATCHES) } },
  );
  const reference: Engine = await createEngine(referenceBundle(await loadBundle(dir)), { intraOpThreads: threads });
  try {
    const data = fmnistTensor(model.manifest.input, Math.max(...Object.values(sizes.images)));
    const mixes: Mix[] = (quick ? [PRIMARY_BUDGET] : BUDGETS).map((fraction) => {
      const choice = model.routing.choose({ budget: { fraction } });
      return { label: String(fraction), routing: eeroRouting(choice), served: { model, choice } };
    });
    const subject: Subject = {
      name: model.name,
      staged: model.engine,
      reference,
      macs: Array.from(model.costs.macs),
      input: data.input,
      images: data.images,
      mixes,
    };
    return await measureSubject(subject, sizes, {
      untrained: false,
      note: `Fashion-MNIST test images (the idx files, normalised as the manifest says; preprocessing not timed). Routed: EERO at budgets ${mixes.map((m) => m.label).join(', ')} (margin; the served model's thresholds; row keys = image indices).`,
      graphFrom: model.paths.graphFrom,
      pathNote: describePaths(model.paths),
    });
  } finally {
    await Promise.all([model.dispose(), reference.dispose()]);
  }
}

async function r18Subject(quick: boolean, threads: number, reps: number | undefined): Promise<SubjectSpeed> {
  const sizes = withReps(quick ? QUICK_SIZES : R18_SIZES, reps);
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
      mixes: [{ label: 'fixed', routing: { kind: 'fixed' } }],
    };
    const made = r.made.length ? ` (${r.made.join(' and ')} in this run)` : '';
    // No served model: the rule without a measurement (a large network's row takes the graph).
    const graphFrom = isSmallNetwork(r.staged.bundle) ? 2 : 1;
    return await measureSubject(subject, sizes, {
      untrained: true,
      note: `ResNet-18, ${r.size}x${r.size}, ${r.classes} classes, UNTRAINED weights (\`eero_toolkit export-untrained\`, early-exit.onnx by support/compose_untrained.py into ${r.dir}${made}); exits after its ${r.macs.length} stages at ${r.macs.map((m) => si(m)).join(', ')} MACs. Untrained confidences mean nothing, so the routed mix is FIXED: row r leaves at exit r mod ${r.macs.length} (an equal share at each), by a -inf threshold for the graph and by onExit for the chain.`,
      graphFrom,
      pathNote: `no served model: the one graph from ${graphFrom} row(s) (the rule without a measurement)`,
    });
  } finally {
    await Promise.all([r.staged.dispose(), r.reference.dispose()]);
  }
}

export async function runSpeed(o: BenchOptions): Promise<SpeedResult> {
  const threads = o.threads ?? availableParallelism();
  const load0 = loadavg()[0] as number;
  const subjects: SubjectSpeed[] = [];
  for (const dir of o.bundles) subjects.push(await bundleSubject(dir, o.quick, threads, o.reps));
  subjects.push(await r18Subject(o.quick, threads, o.reps));
  const load1 = loadavg()[0] as number;
  const peak = await cpuPeak(o.quick, threads);
  const fmnistSpec = (await loadBundle(o.bundles[0] as string, { verify: false })).manifest.input;
  const preprocess = await preprocessSpeed({ quick: o.quick, fmnistSpec });
  const checks = subjects.flatMap(checksOf);
  const warnings: string[] = [];
  for (const s of subjects)
    for (const b of s.batches)
      for (const m of b.mixes)
        if (m.mismatches.graph || m.mismatches.engine)
          warnings.push(
            `${s.name} batch ${b.batch} (${m.label}): ${m.mismatches.graph + m.mismatches.engine} rows routed differently from the chain`,
          );
  if (!o.quick) for (const c of checks.filter((x) => !x.met)) warnings.push(describeCheck(c));
  for (const w of warnings) shout(w);
  const tunables = process.env.GLIBC_TUNABLES ? ` GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES}.` : '';
  const cpuModel = cpus()[0]?.model ?? 'unknown CPU';
  const text = [
    '# Speed: early exits against the plain one graph',
    '',
    ...provenance(o.quick, [
      `CPU: ${cpuModel}, ${availableParallelism()} cores (shared with other work: read the CPU-time columns beside the wall ones). ` +
        `${threads} onnxruntime intra-op threads (batches of one row of a network of at most ${si(SMALL_NETWORK_MACS)} MACs: the engine's single-thread sessions for the chain and the plain graph, EngineOptions.singleRowThreads; the early-exit graph keeps ${threads}). ` +
        'Variants finely interleaved: every variant runs the same batch in turn, in a fresh seeded order for every batch, batch after batch, repetition after repetition; images/s from the median batch, speed-ups (wall and CPU) are medians of the per-batch ratios to the plain graph; CPU is process.cpuUsage (every thread) per image. ' +
        "Plain graph: the manifest's `reference` (full.onnx) through `createEngine` as a one-stage bundle. One graph: the engine's early-exit.onnx, its per-row thresholds and tie noise built as graph-batch.ts builds them (measured), routing outputs only. Stage chain: the engine, the router's rule (softmaxRow + scoreRow >= threshold) in onExit. " +
        "runBatch: `runDirect` on the served model (served at budget 1 so that every budget can be asked; ledger off; results built), the path per batch size as the model's path choice says (measured at load as `serve` measures it; the line under each network's heading). " +
        'MAC ideal = full MACs / realised MACs. Time-based ideal = 1 / Σ_l share_l × cumulative stage seconds_l / total stage seconds, the stage seconds being the every-row chain\'s session times in the same run (so the cumulative seconds of the last exit stand for the plain graph\'s time); "of time ideal (CPU)" divides the CPU speed-up by the same ideal. ' +
        `Load average (1 min) ${fixed(load0, 2)} at the start, ${fixed(load1, 2)} after the engine runs.${tunables}`,
    ]),
    '## Targets',
    '',
    o.quick
      ? 'Not judged in quick mode (the table is for the smoke test).'
      : 'Judged on this run, by wall time (the CPU-time figure beside it):',
    '',
    checkTable(checks),
    '',
    ...subjects.flatMap((s) => [
      `## ${s.name} (${si(s.fullMacs)} MACs)`,
      '',
      s.note,
      '',
      `runBatch: ${s.pathNote}.`,
      '',
      subjectTable(s),
      '',
      ...batchNotes(s),
      '',
    ]),
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
        ? `${s.name}, batch 64: one graph ${s.untrained ? 'at the fixed equal mix' : `at EERO ${PRIMARY_BUDGET}`} ${fixed(g.speedup, 2)}× the plain graph (time-based ideal ${fixed(b64.timeIdeal, 2)}×, ${pct(g.speedup / b64.timeIdeal, 0)}%; MAC ideal ${fixed(b64.macIdeal, 2)}×); every row through every exit ${fixed(1 / all.speedup, 2)}× its time`
        : `${s.name}: n/a`,
      ...(b1
        ? [
            `${s.name}, batch 1: engine path (${enginePath(s, b1).kind}) ${fixed(enginePath(s, b1).speedup, 2)}× (time-based ideal ${fixed(b1.timeIdeal, 2)}×, ${pct(enginePath(s, b1).speedup / b1.timeIdeal, 0)}%)`,
          ]
        : []),
    ];
  });
  headlines.push(`targets: ${checks.filter((c) => c.met).length} of ${checks.length} met${o.quick ? ' (quick mode: not judged)' : ''}`);
  headlines.push(`CPU peak: measured ${si(peak.measuredMacsPerSecond)}MAC/s, theoretical ${si(peak.theoreticalMacsPerSecond)}MAC/s`);
  return { section: 'speed', file, extraFiles: [], headlines, warnings, subjects, checks, peak, preprocess };
}

runMain(module, runSpeed);

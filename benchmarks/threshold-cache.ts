/**
 * Section 4: what a new per-request budget costs. ThresholdCache (scores
 * sorted once; a new budget = weights, a bisection, M binary searches)
 * against a full calibrateEero from the raw outputs (softmax and scores of
 * every calibration image, sorting, then the same), on 1,000 distinct
 * budgets, interleaved budget by budget.
 * Usage: node dist/benchmarks/threshold-cache.js [--quick] [--out DIR] [--bundle DIR ...]
 */
import { markdownTable } from '../src/cli/report/tables';
import { calibrateEero, ThresholdCache } from '../src/router';
import { fixed, median } from './support/format';
import { runMain, type BenchOptions } from './support/options';
import { loadBundleOutputs } from './support/outputs';
import { provenance, shout, writeOutput, type SectionResult } from './support/report';

export interface CacheRow {
  bundle: string;
  budgets: number;
  calibrationImages: number;
  exits: number;
  /** One-off: scoring and sorting the calibration set. */
  constructMs: number;
  cacheMicros: number;
  fullMicros: number;
  ratio: number;
  /** Budgets also run through calibrateEero. */
  direct: number;
  /** Budgets where the two gave different thresholds (must be 0). */
  mismatches: number;
}

export interface ThresholdCacheResult extends SectionResult {
  rows: CacheRow[];
}

/** calibrateEero takes ~0.1 s per budget on 5,000 images: run it on every 5th budget only. */
const DIRECT_EVERY = 5;

const sameThresholds = (a: Float64Array, b: Float64Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

export async function runThresholdCache(o: BenchOptions): Promise<ThresholdCacheResult> {
  const count = o.quick ? 50 : 1000;
  const rows: CacheRow[] = [];
  for (const dir of o.bundles) {
    const b = await loadBundleOutputs(dir);
    const full = b.costs[b.costs.length - 1] as number;
    const first = b.costs[0] as number;
    const t0 = performance.now();
    // maxEntries above the count: every budget is a miss, computed once.
    const cache = new ThresholdCache({ calibration: b.calibration, costs: b.costs, maxEntries: count + 1 });
    const constructMs = performance.now() - t0;
    const cacheTimes: number[] = [];
    const fullTimes: number[] = [];
    let mismatches = 0;
    for (let i = 0; i < count; i++) {
      // Distinct budgets on the cache's resolution grid (1e-6 of the full cost), so both compute the same B.
      const fraction = first / full + ((1 - first / full) * (i + 0.5)) / count;
      const budget = cache.roundBudget(fraction * full);
      const t1 = performance.now();
      const cached = cache.get(budget);
      const t2 = performance.now();
      cacheTimes.push(t2 - t1);
      if (i % DIRECT_EVERY !== 0) continue;
      const direct = calibrateEero(b.calibration, b.costs, budget);
      fullTimes.push(performance.now() - t2);
      if (!sameThresholds(cached.thresholds, direct.thresholds)) mismatches++;
    }
    const cacheMicros = 1000 * median(cacheTimes);
    const fullMicros = 1000 * median(fullTimes);
    rows.push({
      bundle: b.name,
      budgets: count,
      calibrationImages: b.calibration.images,
      exits: b.calibration.exits,
      constructMs,
      cacheMicros,
      fullMicros,
      ratio: fullMicros / cacheMicros,
      direct: fullTimes.length,
      mismatches,
    });
  }
  const warnings = rows
    .filter((r) => r.mismatches > 0)
    .map((r) => `${r.bundle}: ThresholdCache and calibrateEero disagree on ${r.mismatches} budgets`);
  for (const w of warnings) shout(w);
  const text = [
    '# Thresholds for a new budget: ThresholdCache against calibrateEero',
    '',
    ...provenance(o.quick, [
      `${count} distinct budgets from the cheapest exit to 100% (on the cache's 1e-6 resolution grid, so both compute the same B), each a cache miss; on every ${DIRECT_EVERY}th budget a full \`calibrateEero\` from the raw calibration logits runs right after the cache. Median times; thresholds compared exactly on those budgets.`,
    ]),
    markdownTable(
      [
        'bundle',
        'calibration images',
        'exits',
        'cache set-up ms (once)',
        'budgets (cache / calibrateEero)',
        'new budget, cache µs',
        'new budget, calibrateEero µs',
        'ratio',
        'threshold mismatches',
      ],
      rows.map((r) => [
        r.bundle,
        r.calibrationImages,
        r.exits,
        fixed(r.constructMs, 1),
        `${r.budgets} / ${r.direct}`,
        fixed(r.cacheMicros, 1),
        fixed(r.fullMicros, 1),
        `${fixed(r.ratio, 0)}×`,
        r.mismatches,
      ]),
    ),
    '',
  ].join('\n');
  const file = writeOutput(o.outDir, 'threshold-cache.md', text);
  process.stdout.write(`threshold-cache: wrote ${file}\n`);
  const headlines = rows.map(
    (r) =>
      `${r.bundle}: a new budget costs ${fixed(r.cacheMicros, 1)} µs from the cache vs ${fixed(r.fullMicros, 0)} µs for calibrateEero (${fixed(r.ratio, 0)}×), ${r.mismatches} mismatches`,
  );
  return { section: 'threshold-cache', file, extraFiles: [], headlines, warnings, rows };
}

runMain(module, runThresholdCache);

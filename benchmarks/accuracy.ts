/**
 * Section 1: accuracy against budget, from each bundle's calibration and test
 * outputs only (no network run). EERO with three scores against its
 * baselines, re-splits, beta and calibration-size sensitivity, overthinking,
 * and the comparison with the paper.
 * Usage: node dist/benchmarks/accuracy.js [--quick] [--out DIR] [--bundle DIR ...]
 */
import * as path from 'node:path';
import { budgetGrid } from '../src/router';
import { paperClaims, type Claim } from './accuracy-paper';
import {
  accuracyChart,
  aucTable,
  claimsTable,
  methodTable,
  overthinkingTable,
  referenceTable,
  seedTable,
  summaryTable,
  violationLines,
} from './accuracy-markdown';
import {
  BETAS,
  runBetas,
  runCalibrationSizes,
  runResplits,
  type CalibrationSizes,
  type Resplits,
  type SeedTable,
} from './accuracy-robustness';
import {
  ACCURACY_METHODS,
  commonRangeAuc,
  EERO_MARGIN,
  overthinking,
  runSweep,
  violations,
  type AucResult,
  type Overthinking,
  type Sweep,
  type Violation,
} from './accuracy-sweep';
import { pct, si } from './support/format';
import { runMain, type BenchOptions } from './support/options';
import { subsample, loadBundleOutputs, type BundleOutputs } from './support/outputs';
import { provenance, shout, writeOutput, type SectionResult } from './support/report';

export interface BundleAccuracy {
  name: string;
  costs: Float64Array;
  calibrationImages: number;
  testImages: number;
  sweep: Sweep;
  auc: AucResult;
  resplits: Resplits;
  betas: SeedTable;
  calibrationSizes: CalibrationSizes;
  overthinking: Overthinking[];
  violations: Violation[];
  claims: Claim[];
  plot: string;
}

export interface AccuracyResult extends SectionResult {
  bundles: BundleAccuracy[];
}

export function analyseBundle(b: BundleOutputs, quick: boolean, outDir: string): BundleAccuracy {
  const fractions = budgetGrid(b.costs, quick ? 5 : 10);
  const seeds = quick ? [1, 2] : [1, 2, 3, 4, 5];
  const sweep = runSweep(b.calibration, b.test, b.costs, fractions);
  const resplits = runResplits(b.calibration, b.test, b.costs, fractions, seeds);
  const over = overthinking(sweep.test, sweep.fullAccuracy);
  const bad = violations(sweep);
  const plot = writeOutput(outDir, `accuracy-${b.name}.svg`, accuracyChart(b.name, sweep));
  return {
    name: b.name,
    costs: b.costs,
    calibrationImages: b.calibration.images,
    testImages: b.test.images,
    sweep,
    auc: commonRangeAuc(sweep.test),
    resplits,
    betas: runBetas(b.calibration, b.test, b.costs, fractions, quick ? [0.01, 0.04, 0.2] : BETAS),
    calibrationSizes: runCalibrationSizes(b.calibration, b.test, b.costs, fractions, seeds),
    overthinking: over,
    violations: bad,
    claims: paperClaims(sweep, resplits, over, bad),
    plot,
  };
}

function bundleMarkdown(a: BundleAccuracy): string[] {
  const f = a.sweep.fractions;
  const [lo, hi] = a.auc.range;
  return [
    `## ${a.name}`,
    '',
    `Calibrated on the bundle's calibration split (${a.calibrationImages} images), evaluated on its test split (${a.testImages} images). ` +
      `Full model: ${si(a.costs[a.costs.length - 1] as number)} MACs, test accuracy ${pct(a.sweep.fullAccuracy)}%. ` +
      `Budgets: \`budgetGrid\` from the cheapest exit (${pct(f[0] as number, 1)}%) to 100%.`,
    '',
    `![accuracy against cost](${path.basename(a.plot)})`,
    '',
    ...violationLines(a.violations),
    '',
    '### Accuracy against budget (test split)',
    '',
    summaryTable(a.sweep),
    '',
    '### Each exit alone, the full model, the oracle',
    '',
    referenceTable(a.sweep, a.costs),
    '',
    `### Area under the curve (realised cost ${pct(lo, 1)}% to ${pct(hi, 1)}%)`,
    '',
    "The common range is the span of realised cost fractions that every method's curve covers (the largest of the curves' lowest costs to the smallest of their highest), so that no curve is extrapolated; each curve is cut at its ends by linear interpolation and `areaUnderCurve` is divided by the width: the mean accuracy over that range.",
    '',
    aucTable(a.auc),
    '',
    `### Re-splits: mean ± std over ${a.resplits.seeds.length} seeds`,
    '',
    `Calibration and test outputs pooled (both labelled, ${a.calibrationImages + a.testImages} images) and re-split at random (seeds ${a.resplits.seeds.join(', ')}) into ${a.resplits.calibrationSize} calibration and ${a.resplits.testSize} test images; test accuracy %, in brackets the largest realised cost % over the seeds. Full model: ${a.resplits.fullAccuracy.map((x) => pct(x)).join(', ')}.`,
    '',
    seedTable(a.resplits.table, f, true),
    '',
    '### EERO (margin): temperature beta',
    '',
    seedTable(a.betas, f, true),
    '',
    '### EERO (margin): calibration set size',
    '',
    `Random subsets of the calibration split (mean ± std over the seeds; the whole split once), evaluated on the whole test split; in brackets the largest realised cost % on test.${a.calibrationSizes.skipped.length ? ` Not run (larger than the split): ${a.calibrationSizes.skipped.join(', ')}.` : ''}`,
    '',
    seedTable(a.calibrationSizes.table, f, true),
    '',
    '### Overthinking: largest accuracy above the full model at any budget ≤ 100%',
    '',
    overthinkingTable(a.overthinking),
    '',
    '### Compared with the paper',
    '',
    'docs/eero.md\'s "What the paper measured" against this bundle. The paper\'s models and data sets (ConvNeXt on ImageNet, ResNet-18 on CIFAR-100) are not ours (Fashion-MNIST), so absolute accuracies are not comparable; the claims are about the shape of the curves. "Beyond the spread" means the mean difference over the re-splits exceeds its standard deviation; otherwise the verdict is inconclusive.',
    '',
    claimsTable(a.claims),
    '',
    '<details><summary>Every method in detail (accuracy, realised cost on both splits, exit shares)</summary>',
    '',
    ...ACCURACY_METHODS.flatMap((m) => [`#### ${m.name}`, '', methodTable(a.sweep, m.name), '']),
    '</details>',
    '',
  ];
}

export async function runAccuracy(o: BenchOptions): Promise<AccuracyResult> {
  const bundles: BundleAccuracy[] = [];
  for (const dir of o.bundles) {
    const t0 = performance.now();
    const loaded = await loadBundleOutputs(dir);
    // Quick mode is a smoke run: 1,000 images per split keep it well under a minute even in jest.
    const outputs = o.quick
      ? { ...loaded, calibration: subsample(loaded.calibration, 1000, 1), test: subsample(loaded.test, 1000, 2) }
      : loaded;
    bundles.push(analyseBundle(outputs, o.quick, o.outDir));
    process.stderr.write(`accuracy: ${path.basename(dir)} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  const warnings = bundles.flatMap((b) =>
    b.violations.map(
      (v) => `${b.name}: ${v.method} realised ${pct(v.costFraction, 3)}% at budget ${pct(v.budgetFraction, 2)}% on the ${v.split} split`,
    ),
  );
  for (const w of warnings) shout(`BUDGET VIOLATION ${w}`);
  const text = [
    '# Accuracy against compute budget',
    '',
    ...provenance(o.quick, [
      "From the bundles' all-exit outputs (`outputs-calibration.bin`, `outputs-test.bin`); no network is run. Cost = cumulative MACs from the manifest.",
    ]),
    ...bundles.flatMap(bundleMarkdown),
  ].join('\n');
  const file = writeOutput(o.outDir, 'accuracy.md', text);
  const headlines = bundles.map((b) => {
    const eero = b.auc.meanAccuracy.get(EERO_MARGIN);
    const best = [...b.auc.meanAccuracy].sort((x, y) => y[1] - x[1])[0];
    const gain = b.overthinking.find((x) => x.method === EERO_MARGIN)?.gain ?? NaN;
    return `${b.name}: full model ${pct(b.sweep.fullAccuracy)}%; EERO (margin) mean accuracy ${pct(eero ?? NaN)}% over cost ${pct(b.auc.range[0], 0)}–${pct(b.auc.range[1], 0)}% (best: ${best?.[0]} ${pct(best?.[1] ?? NaN)}%); overthinking gain ${(100 * gain).toFixed(2)} pts; ${b.violations.length} budget violations; paper claims: ${b.claims.map((c) => c.verdict).join(', ')}`;
  });
  process.stdout.write(`accuracy: wrote ${file}\n`);
  return { section: 'accuracy', file, extraFiles: bundles.map((b) => b.plot), headlines, warnings, bundles };
}

runMain(module, runAccuracy);

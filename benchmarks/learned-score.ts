/**
 * Issue 18: the label-free learned exit score against EERO (margin) and the
 * baselines, on both shipped bundles' all-exit outputs (no network is run).
 * Everything is fitted and calibrated on the calibration split only and
 * evaluated on the test split; model and feature choices are compared on
 * held-out halves of the calibration split.
 * Usage: npx tsc -p tsconfig.json && node dist/benchmarks/learned-score.js [--quick] [--out DIR] [--bundle DIR ...]
 */
import * as os from 'node:os';
import * as path from 'node:path';
import {
  accuracyOf,
  budgetedOracle,
  calibrateFixedExit,
  calibrateGlobalThreshold,
  calibrateLearnedPrepared,
  computeExitScores,
  computeStatsTable,
  DEFAULT_FEATURES,
  evaluateLearned,
  evaluatePolicy,
  exitsUnderThresholds,
  FEATURE_NAMES,
  globalThresholds,
  LEARNED_FEATURES,
  learnedScores,
  MARGIN_FEATURES,
  oracle,
  permutation,
  prepareLearnedTable,
  resolveScoring,
  selectScoredRows,
  selectTableRows,
  type ExitOutputs,
  type LearnedOptions,
  type PreparedLearned,
  type ScoredOutputs,
  type StatsTable,
} from '../src/router';
import { mean, pct } from './support/format';
import { runMain, type BenchOptions } from './support/options';
import { loadBundleOutputs, subsample } from './support/outputs';
import { writeOutput } from './support/report';

const FRACTIONS = Array.from({ length: 13 }, (_, i) => +(0.1 + 0.05 * i).toFixed(2));
/** Below EERO by more than this (a fraction: 0.05 pt) counts as worse. */
const WORSE = 0.0005;
/** Accuracies are counts over 10,000 images: a hair of slack for their float differences. */
const SLACK = 1e-9;
const SCORING = resolveScoring({ seed: 0 });

interface Split {
  table: StatsTable;
  scored: ScoredOutputs;
}

const splitOf = (o: ExitOutputs): Split => ({ table: computeStatsTable(o, SCORING), scored: computeExitScores(o, SCORING) });
const subset = (s: Split, rows: ArrayLike<number>): Split => ({
  table: selectTableRows(s.table, rows),
  scored: selectScoredRows(s.scored, rows),
});

interface Variant {
  name: string;
  options: LearnedOptions;
  /** Whether it needs its own fit (else it reuses the default one). */
  refit: boolean;
}

const DEFAULT: Variant = { name: 'default: logistic, 8 features, cap, agreement', options: {}, refit: true };
const VARIANTS: Variant[] = [
  DEFAULT,
  { name: 'fallback judged by accuracy', options: { criterion: 'accuracy' }, refit: false },
  { name: 'no cap', options: { cap: false }, refit: false },
  { name: 'tiny MLP (8 tanh units)', options: { fit: { kind: 'mlp' } }, refit: true },
  { name: 'margin-only features (7)', options: { fit: { features: MARGIN_FEATURES } }, refit: true },
  { name: 'all 12 features', options: { fit: { features: FEATURE_NAMES } }, refit: true },
];
/** Candidates compared on held-out calibration halves (the choice of the defaults). */
const SELECTION = VARIANTS.filter((v) => v.name !== 'fallback judged by accuracy');

interface Measure {
  accuracy: number;
  cost: number;
}

interface BudgetRow {
  fraction: number;
  eero: Measure;
  learned: Measure & { which: string; lastExit: number };
  /** The learned threshold even where EERO serves. */
  learnedOnly: Measure;
  global: Measure;
  fixed: Measure & { exit: number };
  oracle: Measure;
}

/** Learned (as chosen) minus EERO on `ev`, at each feasible fraction; NaN where infeasible. */
function gains(prep: PreparedLearned, ev: Split, costs: Float64Array, options: LearnedOptions): number[] {
  const full = costs[costs.length - 1] as number;
  return FRACTIONS.map((f) => {
    if (f * full < (costs[0] as number)) return NaN;
    const p = calibrateLearnedPrepared(prep, costs, f * full, options);
    return evaluateLearned(p, ev.scored, costs, { table: ev.table }).accuracy - evaluatePolicy(p.eero, ev.scored, costs).accuracy;
  });
}

function budgetRows(prep: PreparedLearned, cal: Split, test: Split, costs: Float64Array): BudgetRow[] {
  const full = costs[costs.length - 1] as number;
  const z = learnedScores(test.table, prep.params);
  const m = (e: { accuracy: number; averageCost: number }): Measure => ({ accuracy: e.accuracy, cost: e.averageCost / full });
  return FRACTIONS.filter((f) => f * full >= (costs[0] as number)).map((fraction) => {
    const budget = fraction * full;
    const p = calibrateLearnedPrepared(prep, costs, budget, DEFAULT.options);
    const only = exitsUnderThresholds(z, globalThresholds(p.threshold, costs.length, p.lastExit));
    const fixed = calibrateFixedExit(cal.scored, costs, budget);
    let onlyCost = 0;
    only.forEach((l) => (onlyCost += costs[l] as number));
    return {
      fraction,
      eero: m(evaluatePolicy(p.eero, test.scored, costs)),
      learned: { ...m(evaluateLearned(p, test.scored, costs, { table: test.table })), which: p.which, lastExit: p.lastExit },
      learnedOnly: { accuracy: accuracyOf(only, test.table.prediction, test.table.labels), cost: onlyCost / only.length / full },
      global: m(evaluatePolicy(calibrateGlobalThreshold(cal.scored, costs, budget), test.scored, costs)),
      fixed: { ...m(evaluatePolicy(fixed, test.scored, costs)), exit: fixed.exit },
      oracle: m(budgetedOracle(test.table.prediction, test.table.labels, costs, budget)),
    };
  });
}

interface BundleResult {
  name: string;
  calibration: number;
  test: number;
  fitSeconds: { logistic: [number, number]; mlp: [number, number] };
  rows: BudgetRow[];
  fullAccuracy: number;
  oracle: Measure;
  /** Every test image at exit l. */
  exitsAlone: Measure[];
  variants: { name: string; test: number[]; halves: number[][] }[];
  robustness: { halvings: number; gains: number[][]; over: number };
}

function timed<T>(f: () => T): [T, [number, number]] {
  const [w, c] = [performance.now(), process.cpuUsage()];
  const out = f();
  const cpu = process.cpuUsage(c);
  return [out, [(performance.now() - w) / 1000, (cpu.user + cpu.system) / 1e6]];
}

function analyse(name: string, calOut: ExitOutputs, testOut: ExitOutputs, costs: Float64Array, quick: boolean): BundleResult {
  const cal = splitOf(calOut);
  const test = splitOf(testOut);
  const full = costs[costs.length - 1] as number;
  const [prep, logisticTime] = timed(() => prepareLearnedTable(cal.table, cal.scored, DEFAULT.options));
  const [mlpPrep, mlpTime] = timed(() => prepareLearnedTable(cal.table, cal.scored, { fit: { kind: 'mlp' } }));
  const preps = new Map<string, PreparedLearned>(
    VARIANTS.map((v) => [
      v.name,
      v.name === DEFAULT.name || !v.refit
        ? prep
        : v.options.fit?.kind === 'mlp'
          ? mlpPrep
          : prepareLearnedTable(cal.table, cal.scored, v.options),
    ]),
  );
  const n = cal.table.images;
  const halvings = quick ? 2 : 10;
  const halves = (v: Variant): number[][] =>
    Array.from({ length: halvings }, (_, h) => permutation(n, 1000 + h)).flatMap((p) =>
      [
        [p.subarray(0, n >> 1), p.subarray(n >> 1)],
        [p.subarray(n >> 1), p.subarray(0, n >> 1)],
      ].map(([fit, ev]) => {
        const f = subset(cal, fit as Int32Array);
        return gains(prepareLearnedTable(f.table, f.scored, v.options), subset(cal, ev as Int32Array), costs, v.options);
      }),
    );
  const variants = VARIANTS.map((v) => ({
    name: v.name,
    test: gains(preps.get(v.name) as PreparedLearned, test, costs, v.options),
    halves: SELECTION.includes(v) ? halves(v) : [],
  }));
  const robustRuns = quick ? 3 : 20;
  const robust = Array.from({ length: robustRuns }, (_, h) => {
    const half = subset(cal, permutation(n, 2000 + h).subarray(0, n >> 1));
    const hp = prepareLearnedTable(half.table, half.scored, DEFAULT.options);
    let over = 0;
    const g = FRACTIONS.map((f) => {
      if (f * full < (costs[0] as number)) return NaN;
      const p = calibrateLearnedPrepared(hp, costs, f * full, DEFAULT.options);
      const e = evaluateLearned(p, test.scored, costs, { table: test.table });
      if (e.averageCost > f * full * (1 + 1e-9)) over++;
      return e.accuracy - evaluatePolicy(p.eero, test.scored, costs).accuracy;
    });
    return { g, over };
  });
  const o = oracle(test.scored, costs, SCORING);
  return {
    name,
    calibration: cal.table.images,
    test: test.table.images,
    fitSeconds: { logistic: logisticTime, mlp: mlpTime },
    rows: budgetRows(prep, cal, test, costs),
    fullAccuracy: accuracyOf(new Int32Array(test.table.images).fill(costs.length - 1), test.table.prediction, test.table.labels),
    exitsAlone: Array.from(costs, (c, l) => ({
      accuracy: accuracyOf(new Int32Array(test.table.images).fill(l), test.table.prediction, test.table.labels),
      cost: c / full,
    })),
    oracle: { accuracy: o.accuracy, cost: o.costFraction },
    variants,
    robustness: { halvings: robustRuns, gains: robust.map((r) => r.g), over: robust.reduce((s, r) => s + r.over, 0) },
  };
}

const pt = (v: number): string => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${(100 * v).toFixed(2)}` : 'n/a');
const acc = (m: Measure): string => `${pct(m.accuracy)} (${pct(m.cost, 1)})`;

function mainTable(b: BundleResult): string[] {
  const head =
    '| budget | EERO (margin) | learned | Δ pt | which (last exit) | learned, no fallback | global margin threshold | deepest exit that fits | budgeted oracle | gap to oracle pt |';
  return [
    head,
    `|${' --- |'.repeat(10)}`,
    ...b.rows.map(
      (r) =>
        `| ${r.fraction.toFixed(2)} | ${acc(r.eero)} | ${acc(r.learned)}${r.learned.cost > r.fraction * (1 + 1e-9) ? ' **OVER**' : ''} | ${pt(r.learned.accuracy - r.eero.accuracy)} | ${r.learned.which} (${r.learned.lastExit + 1}) | ${acc(r.learnedOnly)} | ${acc(r.global)}${r.global.cost > r.fraction * (1 + 1e-9) ? ' **OVER**' : ''} | exit ${r.fixed.exit + 1}: ${acc(r.fixed)} | ${acc(r.oracle)} | ${pt(r.oracle.accuracy - r.learned.accuracy)} |`,
    ),
  ];
}

function variantTable(b: BundleResult): string[] {
  const feasible = FRACTIONS.map((f, i) => (b.rows.some((r) => r.fraction === f) ? i : -1)).filter((i) => i >= 0);
  const cols = feasible.map((i) => (FRACTIONS[i] as number).toFixed(2));
  const line = (name: string, where: string, g: number[]): string =>
    `| ${name} | ${where} | ${pt(mean(feasible.map((i) => g[i] as number)))} | ${feasible.map((i) => pt(g[i] as number)).join(' | ')} |`;
  const meanOf = (runs: number[][]): number[] => FRACTIONS.map((_, i) => mean(runs.map((r) => r[i] as number)));
  return [
    `| variant | evaluated on | mean | ${cols.join(' | ')} |`,
    `|${' --- |'.repeat(3 + cols.length)}`,
    ...b.variants.flatMap((v) => [
      line(v.name, 'test (fit on calibration)', v.test),
      ...(v.halves.length ? [line('', `calibration halves (mean of ${v.halves.length})`, meanOf(v.halves))] : []),
    ]),
  ];
}

/** Which candidate has the best mean Δ on the held-out calibration halves (the selection rule). */
function selectionLine(b: BundleResult): string {
  const scored = b.variants
    .filter((v) => v.halves.length > 0)
    .map((v) => ({ name: v.name, mean: mean(v.halves.flat().filter(Number.isFinite)) }))
    .sort((x, y) => y.mean - x.mean);
  return `Best mean Δ on the held-out calibration halves: ${scored.map((v) => `${v.name} ${pt(v.mean)}`).join('; ')}.`;
}

function targetLines(b: BundleResult): string[] {
  const at = (f: number): BudgetRow | undefined => b.rows.find((r) => r.fraction === f);
  const gain = (f: number): number => {
    const r = at(f);
    return r ? r.learned.accuracy - r.eero.accuracy : NaN;
  };
  const worst = Math.min(...b.rows.map((r) => r.learned.accuracy - r.eero.accuracy));
  const over = b.rows.filter((r) => r.learned.cost > r.fraction * (1 + 1e-9)).length;
  const goals: Array<[number, number]> = b.name.startsWith('resnet')
    ? [
        [0.25, 0.01],
        [0.3, 0.0085],
      ]
    : b.name.startsWith('convnext')
      ? [
          [0.15, 0.005],
          [0.25, 0.004],
        ]
      : [];
  const flat = b.robustness.gains.flat().filter(Number.isFinite);
  return [
    `- ≥ EERO − 0.05 pt at every budget: worst ${pt(worst)} pt → ${worst >= -WORSE - SLACK ? 'met' : '**missed**'}; realised test cost above the budget: ${over} of ${b.rows.length} budgets → ${over === 0 ? 'met' : '**missed**'}.`,
    ...goals.map(
      ([f, g]) =>
        `- Δ at ${f.toFixed(2)} ≥ +${(100 * g).toFixed(2)} pt: ${pt(gain(f))} → ${gain(f) >= g - SLACK ? 'met' : `**missed by ${(100 * (g - gain(f))).toFixed(2)} pt**`}.`,
    ),
    `- Robustness, ${b.robustness.halvings} random halvings of the calibration split (fit and calibrate on one half, evaluate on the test split): ${flat.filter((g) => g < -WORSE - SLACK).length} of ${flat.length} (halving, budget) pairs below EERO − 0.05 pt (worst ${pt(Math.min(...flat))} pt; mean Δ ${pt(mean(flat))} pt); realised test cost above the budget in ${b.robustness.over}.`,
  ];
}

function bundleMarkdown(b: BundleResult): string[] {
  return [
    `## ${b.name}`,
    '',
    `Fitted and calibrated on the calibration split (${b.calibration} images), evaluated on the test split (${b.test} images). Full model ${pct(b.fullAccuracy)}%; oracle (first correct exit) ${pct(b.oracle.accuracy)}% at ${pct(b.oracle.cost, 1)}% of the cost. Fit of the default learned score on the whole calibration split: ${b.fitSeconds.logistic[0].toFixed(2)} s wall, ${b.fitSeconds.logistic[1].toFixed(2)} s CPU (tiny MLP: ${b.fitSeconds.mlp[0].toFixed(1)} s wall, ${b.fitSeconds.mlp[1].toFixed(1)} s CPU).`,
    '',
    '### Targets (issue 18)',
    '',
    ...targetLines(b),
    '',
    '### Test accuracy % (realised cost % of the full model) by budget',
    '',
    'EERO: margin score, beta 0.04. Learned: the default below, its threshold where it agrees with the final exit more than EERO on the calibration split, EERO otherwise (`which`). Learned, no fallback: the learned threshold at every budget. Deepest exit that fits: every image at one exit. Budgeted oracle: the most accurate any rule can be at that average cost knowing the labels (each image right for the cost of its first correct exit, cheapest first); the gap is its accuracy minus the learned one.',
    '',
    ...mainTable(b),
    '',
    '### Each exit alone (test)',
    '',
    `| exit | ${b.exitsAlone.map((_, l) => String(l + 1)).join(' | ')} |`,
    `|${' --- |'.repeat(b.exitsAlone.length + 1)}`,
    `| accuracy % (cost %) | ${b.exitsAlone.map(acc).join(' | ')} |`,
    '',
    '### Variants: Δ accuracy (pt) against EERO',
    '',
    selectionLine(b),
    '',
    'On the test split (fitted on the whole calibration split), and on held-out halves of the calibration split (fit and calibrate on one half, evaluate on the other, both ways, seeded halvings): the comparison the defaults were chosen by. Each variant changes one thing from the default.',
    '',
    ...variantTable(b),
    '',
  ];
}

function featureDocs(): string[] {
  return DEFAULT_FEATURES.map((f) => `- \`${f}\`: ${LEARNED_FEATURES[f].doc}`);
}

export async function runLearnedScore(o: BenchOptions): Promise<{ file: string }> {
  const results: BundleResult[] = [];
  for (const dir of o.bundles) {
    const t0 = performance.now();
    const b = await loadBundleOutputs(dir);
    const [cal, test] = o.quick ? [subsample(b.calibration, 1000, 1), subsample(b.test, 2000, 2)] : [b.calibration, b.test];
    results.push(analyse(b.name, cal, test, b.costs, o.quick));
    process.stderr.write(`learned-score: ${path.basename(dir)} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  const text = [
    '# Learned exit score against EERO (issue 18)',
    '',
    `_Command: \`npx tsc -p tsconfig.json && node dist/benchmarks/learned-score.js${o.quick ? ' --quick' : ''}\`, run on ${new Date().toISOString().slice(0, 10)} (${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, node ${process.version})${o.quick ? '; **QUICK MODE: subsampled, a smoke test, not results**' : ''}._`,
    '',
    "From the bundles' all-exit outputs (`outputs-calibration.bin`, `outputs-test.bin`); no network is run. Tie-noise seed 0, temperature 1. Cost = cumulative MACs; budgets are fractions of the full model's (a budget below the cheapest exit is infeasible and left out).",
    '',
    'The learned score (src/router/learned): at each exit but the last, a logistic model (Newton/IRLS, L2 penalty 1 in standardised units) of "this exit\'s prediction equals the final exit\'s" (label-free), over these features of the tie-noised float64 probabilities and the exits before:',
    '',
    ...featureDocs(),
    '',
    "The score is the model's log-odds. Allocation: one global threshold t on it, the largest whose realised calibration cost is at most what EERO realises there at the same budget (never more than the budget); a cap (the last exit any image may reach) is chosen with it by the criterion. Where the learned rule does not agree with the final exit more often than EERO on the calibration split, EERO serves (fallback).",
    '',
    ...results.flatMap(bundleMarkdown),
  ].join('\n');
  const file = writeOutput(o.outDir, 'learned-score.md', text);
  process.stdout.write(`learned-score: wrote ${file}\n`);
  return { file };
}

runMain(module, runLearnedScore);

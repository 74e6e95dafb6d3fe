import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DEFAULTS, loadBundle, readBundleOutputs, writeBudgetPolicy, type BudgetPolicy } from '../../config';
import { optionFlags, someOptions } from './routing-flags';
import { EeroError } from '../../errors';
import { ROUTING_OPTIONS, routingFrom } from '../../pipeline';
import { certificationReport } from '../report/certification';
import { budgetGrid, calibrateEero, DEFAULT_SCORING, referencePoints, sweepBudgets, sweepMethods, type SweepPoint } from '../../router';
import { defineCommand, numberFlag, type CommandSpec } from '../args';
import { renderLineChart } from '../report/svg-chart';
import { csvTable, markdownTable, type Cell } from '../report/tables';
import { profileBundleSeconds } from './profile-seconds';

const flags = {
  model: { type: 'string', short: 'm', description: 'bundle folder', default: DEFAULTS.modelPath, valueName: 'dir' },
  budgets: {
    type: 'string',
    description: 'budget fractions to report, comma-separated (default: a grid from the cheapest exit to 1)',
    valueName: 'list',
  },
  'write-policies': {
    type: 'string',
    description: 'budget fractions to write as budgets/<model>-<budget>.yaml',
    default: '0.5',
    valueName: 'list',
  },
  ...optionFlags(someOptions(['score', 'beta', 'agreement', 'accuracyDrop', 'delta'])),
  'report-dir': { type: 'string', description: 'where the table and plot go', default: 'reports/<model>', valueName: 'dir' },
  'budgets-dir': { type: 'string', description: 'where policy files go', default: 'budgets', valueName: 'dir' },
  'no-profile': { type: 'boolean', description: 'skip measuring seconds per stage on this machine' },
  'profile-batch': { type: 'string', description: 'batch size for the seconds profile', default: '64' },
} as const;

const spec: CommandSpec<typeof flags> = {
  name: 'calibrate',
  summary:
    "Calibrate EERO on a bundle's calibration outputs; report accuracy against cost on its test outputs beside the baselines; write budget policies.",
  usage: 'eero calibrate [--model dir] [--budgets 0.3,0.5,0.7] [--write-policies 0.5] [--agreement 0.99 --delta 0.05]',
  flags,
  examples: [
    'eero calibrate --model models/resnet18-fmnist --write-policies 0.5,0.7',
    'eero calibrate --agreement 0.99 --delta 0.05 --write-policies 1',
  ],
};

function parseFractions(name: string, raw: string): number[] {
  return raw.split(',').map((s) => numberFlag(name, s.trim(), { min: 1e-6, max: 1 }) as number);
}

const pct = (v: number): number => +(100 * v).toFixed(2);

export function sharesCell(shares: number[]): string {
  return shares
    .map((s, i) => (s > 0 ? `${i + 1}:${Math.round(100 * s)}` : ''))
    .filter(Boolean)
    .join(' ');
}

export const calibrateCommand = defineCommand(spec, async (args) => {
  const f = args.flags;
  if (args.positionals.length > 0)
    throw new EeroError('BAD_PARAMETER', `calibrate takes no positional arguments (got ${args.positionals.join(' ')})`);
  const routing = routingFrom('flag', f);
  const score = routing.score ?? DEFAULT_SCORING.score;
  const beta = routing.beta ?? DEFAULTS.beta;
  const bundle = await loadBundle(f.model as string);
  const m = bundle.manifest;
  const [calibration, test] = await Promise.all([readBundleOutputs(bundle, 'calibration'), readBundleOutputs(bundle, 'test')]);
  const macs = Float64Array.from(m.exits.map((e) => e.macs));
  const full = macs[macs.length - 1] as number;
  const fractions = f.budgets ? parseFractions('budgets', f.budgets) : budgetGrid(macs);
  const methods = sweepMethods(score, beta);
  const points = sweepBudgets({ calibration, test, costs: macs, fractions, methods, scoring: { score } });
  const refs = referencePoints(test, macs, { score });
  const seconds = f['no-profile']
    ? undefined
    : await profileBundleSeconds(bundle, numberFlag('profile-batch', f['profile-batch'], { min: 1, max: 4096, integer: true }) as number);
  const secondsOf = (p: SweepPoint): number | undefined =>
    seconds
      ? p.exitShares.reduce((s, share, l) => s + share * (seconds[l] as number), 0) / (seconds[seconds.length - 1] as number)
      : undefined;

  const header = [
    'method',
    'budget %',
    'test accuracy %',
    'realised MACs %',
    ...(seconds ? ['realised time %'] : []),
    'exit shares % (exit:share)',
    'within budget',
  ];
  const row = (p: SweepPoint): Cell[] => [
    p.method,
    Number.isFinite(p.budget) ? pct(p.budgetFraction) : '-',
    pct(p.accuracy),
    pct(p.costFraction),
    ...(seconds ? [pct(secondsOf(p) as number)] : []),
    sharesCell(p.exitShares),
    Number.isFinite(p.budget) ? (p.violation ? 'NO' : 'yes') : '-',
  ];
  const rows = [...points, ...refs].map(row);
  const reportDir = (f['report-dir'] as string).replace('<model>', m.name);
  mkdirSync(reportDir, { recursive: true });
  const exitTable = markdownTable(
    ['exit', 'cumulative MACs', 'MACs % of full', ...(seconds ? ['measured time % of full'] : []), 'calibration acc. %', 'test acc. %'],
    m.exits.map((e, l) => [
      e.exit,
      e.macs,
      pct(e.macs / full),
      ...(seconds ? [pct((seconds[l] as number) / (seconds[seconds.length - 1] as number))] : []),
      pct(e.calibrationAccuracy),
      pct(e.testAccuracy),
    ]),
  );
  const md = [
    `# Calibration report: ${m.name}`,
    '',
    `EERO calibrated on the calibration split (${calibration.images} images), evaluated on the test split (${test.images} images); score ${score}, beta ${beta}. Cost unit: MACs${seconds ? `; time measured per stage on this machine at batch ${f['profile-batch']}` : ''}.`,
    '',
    '## Exits',
    '',
    exitTable,
    '## Accuracy against budget',
    '',
    markdownTable(header, rows),
  ].join('\n');
  writeFileSync(path.join(reportDir, 'calibration.md'), md);
  writeFileSync(path.join(reportDir, 'calibration.csv'), csvTable(header, rows));
  const series = methods.map((mm) => ({
    name: mm.name,
    points: points.filter((p) => p.method === mm.name).map((p) => [100 * p.costFraction, 100 * p.accuracy] as [number, number]),
  }));
  series.push({
    name: 'single exits',
    points: refs.filter((p) => p.kind === 'fixed-exit').map((p) => [100 * p.costFraction, 100 * p.accuracy] as [number, number]),
    markersOnly: true,
  } as (typeof series)[number]);
  const orc = refs.find((p) => p.kind === 'oracle');
  if (orc)
    series.push({ name: 'oracle', points: [[100 * orc.costFraction, 100 * orc.accuracy]], markersOnly: true } as (typeof series)[number]);
  writeFileSync(
    path.join(reportDir, 'accuracy-vs-cost.svg'),
    renderLineChart(series, {
      title: `${m.name}: test accuracy against average cost`,
      xLabel: 'average cost (% of full model MACs)',
      yLabel: 'test accuracy (%)',
    }),
  );

  // A guarantee is certified now (and again at load, from the same outputs): a budget below its cost is refused here.
  const certified = routing.guarantee ? certificationReport(calibration, test, macs, routing.guarantee, { score, beta }) : undefined;
  if (certified) process.stdout.write(certified.text);
  const written: string[] = [];
  for (const b of parseFractions('write-policies', f['write-policies'] as string)) {
    if (certified && b < certified.budgetFraction) {
      throw new EeroError(
        'GUARANTEE_INFEASIBLE',
        `--write-policies ${b}: the guarantee needs a budget of at least ${pct(certified.budgetFraction)}% of the full model`,
        {
          details: { cheapestCertifiedFraction: certified.budgetFraction, requestedFraction: b },
        },
      );
    }
    const budget = b * full;
    const policy = calibrateEero(calibration, macs, budget, { beta, score, costUnit: 'MACs' });
    const g = routing.guarantee;
    const suffix = g ? (g.agreement !== undefined ? `-agreement-${g.agreement}` : `-accuracy-drop-${g.accuracyDrop}`) : '';
    const file = path.join(f['budgets-dir'] as string, `${m.name}-${b}${suffix}.yaml`);
    const doc: BudgetPolicy = {
      name: `${m.name}-${b}${suffix}`,
      model: m.name,
      costUnit: 'macs',
      ledger: { enabled: true },
      routing: { budget: { fraction: b }, score, beta, ...routing.guarantee },
      // A guarantee is certified at load, from the calibration outputs; otherwise EERO's thresholds are pinned.
      ...(routing.guarantee ? {} : { thresholds: Array.from(policy.thresholds) }),
    };
    mkdirSync(path.dirname(file), { recursive: true });
    await writeBudgetPolicy(file, doc, ROUTING_OPTIONS);
    written.push(file);
  }
  const eero = points.filter((p) => p.kind === 'eero');
  if (eero.some((p) => p.violation)) {
    process.stderr.write('warning: EERO exceeded a budget on the test split (see the table)\n');
  }
  process.stdout.write(
    markdownTable(
      ['EERO budget %', 'test accuracy %', 'realised MACs %', ...(seconds ? ['realised time %'] : [])],
      eero.map((p) => [pct(p.budgetFraction), pct(p.accuracy), pct(p.costFraction), ...(seconds ? [pct(secondsOf(p) as number)] : [])]),
    ),
  );
  process.stdout.write(
    `\nfull model: ${pct(refs[refs.length - 2]?.accuracy ?? NaN)}% test accuracy; oracle ${pct(orc?.accuracy ?? NaN)}%\n`,
  );
  process.stdout.write(
    `report: ${path.join(reportDir, 'calibration.md')}, calibration.csv, accuracy-vs-cost.svg\npolicies: ${written.join(', ')}\n`,
  );
  return 0;
});

/** What `eero calibrate` writes and prints: the exits, accuracy against budget for every method, the plot, the EERO summary. */
import { realisedTimeFraction, type CalibrationResult } from '../../pipeline';
import type { SweepPoint } from '../../router';
import { renderLineChart, type ChartSeries } from './svg-chart';
import { markdownTable, type Cell } from './tables';

const pct = (v: number): number => +(100 * v).toFixed(2);

function sharesCell(shares: number[]): string {
  return shares
    .map((s, i) => (s > 0 ? `${i + 1}:${Math.round(100 * s)}` : ''))
    .filter(Boolean)
    .join(' ');
}

/** Every method at every budget, then the references: the table of calibration.md and calibration.csv. */
export function budgetTable(r: CalibrationResult): { header: string[]; rows: Cell[][] } {
  const seconds = r.seconds;
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
    ...(seconds ? [pct(realisedTimeFraction(p, seconds))] : []),
    sharesCell(p.exitShares),
    Number.isFinite(p.budget) ? (p.violation ? 'NO' : 'yes') : '-',
  ];
  return { header, rows: [...r.points, ...r.references].map(row) };
}

export function calibrationMarkdown(r: CalibrationResult): string {
  const { manifest: m, seconds } = r;
  const full = r.costs[r.costs.length - 1] as number;
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
  const { header, rows } = budgetTable(r);
  return [
    `# Calibration report: ${m.name}`,
    '',
    `EERO calibrated on the calibration split (${r.calibrationImages} images), evaluated on the test split (${r.testImages} images); score ${r.score}, beta ${r.beta}. Cost unit: MACs${seconds ? `; time measured per stage on this machine at batch ${r.profileBatch}` : ''}.`,
    '',
    '## Exits',
    '',
    exitTable,
    '## Accuracy against budget',
    '',
    markdownTable(header, rows),
  ].join('\n');
}

const xy = (p: SweepPoint): [number, number] => [100 * p.costFraction, 100 * p.accuracy];

export function accuracyVsCostSvg(r: CalibrationResult): string {
  const series: ChartSeries[] = r.methods.map((mm) => ({ name: mm.name, points: r.points.filter((p) => p.method === mm.name).map(xy) }));
  series.push({ name: 'single exits', points: r.references.filter((p) => p.kind === 'fixed-exit').map(xy), markersOnly: true });
  const orc = r.references.find((p) => p.kind === 'oracle');
  if (orc) series.push({ name: 'oracle', points: [xy(orc)], markersOnly: true });
  return renderLineChart(series, {
    title: `${r.manifest.name}: test accuracy against average cost`,
    xLabel: 'average cost (% of full model MACs)',
    yLabel: 'test accuracy (%)',
  });
}

/** EERO at each budget, the full model and the oracle: what the command prints. */
export function eeroSummary(r: CalibrationResult): string {
  const seconds = r.seconds;
  const eero = r.points.filter((p) => p.kind === 'eero');
  const table = markdownTable(
    ['EERO budget %', 'test accuracy %', 'realised MACs %', ...(seconds ? ['realised time %'] : [])],
    eero.map((p) => [
      pct(p.budgetFraction),
      pct(p.accuracy),
      pct(p.costFraction),
      ...(seconds ? [pct(realisedTimeFraction(p, seconds))] : []),
    ]),
  );
  const orc = r.references.find((p) => p.kind === 'oracle');
  const refs = r.references;
  return `${table}\nfull model: ${pct(refs[refs.length - 2]?.accuracy ?? NaN)}% test accuracy; oracle ${pct(orc?.accuracy ?? NaN)}%\n`;
}

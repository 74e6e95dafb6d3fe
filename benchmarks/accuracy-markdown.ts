/** Markdown tables and the SVG plot of the accuracy section. */
import { renderLineChart, type ChartSeries } from '../src/cli/report/svg-chart';
import { markdownTable, type Cell } from '../src/cli/report/tables';
import type { SweepPoint } from '../src/router';
import type { Claim } from './accuracy-paper';
import type { SeedTable } from './accuracy-robustness';
import { byMethod, fractionKey, pointAt, type AucResult, type Overthinking, type Sweep, type Violation } from './accuracy-sweep';
import { pct, pctMeanStd, si } from './support/format';

const shares = (p: SweepPoint): string => p.exitShares.map((s) => Math.round(100 * s)).join('/');

/** Compact: one row per budget, one column per method (accuracy %, realised cost %). */
export function summaryTable(sweep: Sweep): string {
  const methods = [...byMethod(sweep.test).keys()];
  const rows: Cell[][] = sweep.fractions.map((f) => [
    pct(f, 1),
    ...methods.map((m) => {
      const p = pointAt(sweep.test, m, f);
      return p ? `${pct(p.accuracy)} (${pct(p.costFraction, 1)}${p.violation ? ' **OVER**' : ''})` : '';
    }),
  ]);
  return markdownTable(['budget %', ...methods.map((m) => `${m}: acc % (cost %)`)], rows);
}

/** Every number of one method: accuracy, realised cost on both splits, exit shares. */
export function methodTable(sweep: Sweep, method: string): string {
  const rows: Cell[][] = sweep.fractions.flatMap((f) => {
    const t = pointAt(sweep.test, method, f);
    const c = pointAt(sweep.calibration, method, f);
    if (!t || !c) return [];
    const flag = (p: SweepPoint): string => (p.violation ? ' **OVER BUDGET**' : '');
    return [[pct(f, 1), pct(t.accuracy), `${pct(t.costFraction, 2)}${flag(t)}`, `${pct(c.costFraction, 2)}${flag(c)}`, shares(t)]];
  });
  return markdownTable(
    ['budget %', 'test accuracy %', 'realised cost % (test)', 'realised cost % (calibration)', 'exit shares % (test)'],
    rows,
  );
}

export function referenceTable(sweep: Sweep, costs: Float64Array): string {
  const rows: Cell[][] = sweep.reference.map((p) => {
    const l = p.kind === 'fixed-exit' ? Number(/exit (\d+)/.exec(p.method)?.[1]) - 1 : -1;
    const name = l === costs.length - 1 ? `${p.method} = full model` : p.method;
    return [name, pct(p.accuracy), pct(p.costFraction, 1), l >= 0 ? si(costs[l] as number) : `${si(p.averageCost)} (mean)`];
  });
  return markdownTable(['', 'test accuracy %', 'cost %', 'MACs'], rows);
}

export function aucTable(auc: AucResult): string {
  const rows: Cell[][] = [...auc.meanAccuracy].sort((a, b) => b[1] - a[1]).map(([m, v]) => [m, pct(v)]);
  return markdownTable(['method', 'mean accuracy % over the range (AUC / width)'], rows);
}

/** Rows: one per table key (method, beta, N); columns: budgets; cells: mean ± std of accuracy. */
export function seedTable(table: SeedTable, fractions: number[], withCost = false): string {
  const rows: Cell[][] = [...table].map(([name, cells]) => [
    name,
    ...fractions.map((f) => {
      const c = cells.get(fractionKey(f));
      if (!c) return '';
      const over = c.violations ? ` **${c.violations}× OVER**` : '';
      return `${c.accuracy.length > 1 ? pctMeanStd(c.accuracy) : pct(c.accuracy[0] as number)}${withCost ? ` (${pct(Math.max(...c.cost), 1)})` : ''}${over}`;
    }),
  ]);
  return markdownTable(['', ...fractions.map((f) => `${pct(f, 1)}%`)], rows);
}

export function overthinkingTable(over: Overthinking[]): string {
  return markdownTable(
    ['method', 'best accuracy − full model', 'at budget %', 'realised cost %'],
    over.map((o) => [
      o.method,
      `${o.gain >= 0 ? '+' : ''}${(100 * o.gain).toFixed(2)} pts`,
      pct(o.budgetFraction, 1),
      pct(o.costFraction, 1),
    ]),
  );
}

export function claimsTable(claims: Claim[]): string {
  return markdownTable(
    ['claim', 'paper', 'ours', 'verdict'],
    claims.map((c) => [c.claim, c.paper, c.ours, `**${c.verdict}**`]),
  );
}

export function violationLines(bad: Violation[]): string[] {
  if (!bad.length) return ['No budget violations: every budgeted method realised a cost ≤ its budget on both splits.'];
  return [
    `## ⚠️ BUDGET VIOLATIONS: ${bad.length} (realised cost above the budget)`,
    '',
    markdownTable(
      ['split', 'method', 'budget %', 'realised cost %'],
      bad.map((v) => [v.split, v.method, pct(v.budgetFraction, 2), pct(v.costFraction, 3)]),
    ),
    '',
    "EERO's guarantee holds on the calibration distribution; a violation on the calibration split is a bug, one on the test split is a finite-sample overshoot.",
  ];
}

export function accuracyChart(name: string, sweep: Sweep): string {
  const series: ChartSeries[] = [...byMethod(sweep.test)].map(([m, ps]) => ({
    name: m,
    points: [...ps]
      .sort((a, b) => a.costFraction - b.costFraction)
      .map((p) => [100 * p.costFraction, 100 * p.accuracy] as [number, number]),
    ...(m.startsWith('EERO (') && m !== 'EERO (margin)' ? { dashed: true } : {}),
  }));
  const exits = sweep.reference.filter((p) => p.kind === 'fixed-exit');
  series.push({ name: 'each exit alone', markersOnly: true, points: exits.map((p) => [100 * p.costFraction, 100 * p.accuracy]) });
  const oracle = sweep.reference.filter((p) => p.kind === 'oracle');
  series.push({ name: 'oracle', markersOnly: true, points: oracle.map((p) => [100 * p.costFraction, 100 * p.accuracy]) });
  return renderLineChart(series, {
    title: `${name}: test accuracy against realised cost`,
    xLabel: 'average cost per image, % of the full model (MACs)',
    yLabel: 'test accuracy %',
  });
}

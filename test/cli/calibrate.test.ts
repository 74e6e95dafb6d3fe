import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DEFAULTS, loadBudgetPolicy, loadBundle, readBundleOutputs, type ExitOutputs, type Manifest } from '../../src/config';
import { exitCodeFor } from '../../src/cli/exit-codes';
import { main } from '../../src/cli/main';
import { ROUTING_OPTIONS } from '../../src/pipeline';
import { calibrateEero, evaluatePolicy } from '../../src/router';
import { RESNET_BUNDLE } from '../support/bundles';

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    return { code: await main(argv), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/** The rows of the Markdown table that follows `heading` (header row first, the --- row dropped). */
function tableAfter(md: string, heading: string): string[][] {
  const lines = md.split('\n');
  const start = lines.indexOf(heading);
  expect(start).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('#')) break;
    if (!line.startsWith('|') || line.startsWith('| ---')) continue;
    rows.push(
      line
        .slice(1, -1)
        .split('|')
        .map((c) => c.trim()),
    );
  }
  return rows;
}

const pct = (v: number): string => String(+(100 * v).toFixed(2));

// A full sweep (and a 200-step certification) over 15,000 rows: seconds alone, much more on a loaded 2-core machine.
const SLOW_MS = 180_000;

describe('eero calibrate on the ResNet-18 bundle', () => {
  let root: string;
  let manifest: Manifest;
  let calibration: ExitOutputs;
  let test: ExitOutputs;
  let macs: Float64Array;

  beforeAll(async () => {
    const bundle = await loadBundle(RESNET_BUNDLE);
    manifest = bundle.manifest;
    [calibration, test] = await Promise.all([readBundleOutputs(bundle, 'calibration'), readBundleOutputs(bundle, 'test')]);
    macs = Float64Array.from(manifest.exits.map((e) => e.macs));
  });
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'eero-calibrate-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const dirs = (): string[] => ['--report-dir', path.join(root, 'reports', '<model>'), '--budgets-dir', path.join(root, 'budgets')];

  it(
    'writes the report tables, the plot and an EERO policy whose thresholds give the reported accuracy, and prints the summary',
    async () => {
      const { code, out, err } = await capture([
        'calibrate',
        '--model',
        RESNET_BUNDLE,
        '--budgets',
        '0.3,0.5',
        '--write-policies',
        '0.5',
        '--no-profile',
        ...dirs(),
      ]);
      expect(err).toBe('');
      expect(code).toBe(0);
      const reportDir = path.join(root, 'reports', manifest.name);
      const policyFile = path.join(root, 'budgets', `${manifest.name}-0.5.yaml`);
      expect(readdirSync(reportDir).sort()).toEqual(['accuracy-vs-cost.svg', 'calibration.csv', 'calibration.md']);
      expect(readdirSync(path.join(root, 'budgets'))).toEqual([`${manifest.name}-0.5.yaml`]);

      // The policy file: EERO's thresholds at half the full cost, pinned, with the default score and beta.
      const policy = await loadBudgetPolicy(policyFile, ROUTING_OPTIONS);
      const full = macs[macs.length - 1]!;
      const eero = calibrateEero(calibration, macs, 0.5 * full, { beta: DEFAULTS.beta, score: 'margin', costUnit: 'MACs' });
      expect(policy).toMatchObject({ name: `${manifest.name}-0.5`, model: manifest.name, costUnit: 'macs', ledger: { enabled: true } });
      expect(policy.routing).toMatchObject({ budget: { fraction: 0.5 }, score: 'margin', beta: DEFAULTS.beta });
      expect(policy.thresholds).toEqual(Array.from(eero.thresholds));
      expect(policy.thresholds).toHaveLength(manifest.exits.length);
      const onTest = evaluatePolicy(eero, test, macs);

      // calibration.md: one row per exit, then every method at both budgets and the references.
      const md = readFileSync(path.join(reportDir, 'calibration.md'), 'utf8');
      expect(md).toContain(`# Calibration report: ${manifest.name}`);
      expect(md).toContain(`(${calibration.images} images), evaluated on the test split (${test.images} images); score margin, beta 0.04.`);
      const exits = tableAfter(md, '## Exits');
      expect(exits[0]).toEqual(['exit', 'cumulative MACs', 'MACs % of full', 'calibration acc. %', 'test acc. %']);
      expect(exits.slice(1)).toEqual(
        manifest.exits.map((e) => [String(e.exit), String(e.macs), pct(e.macs / full), pct(e.calibrationAccuracy), pct(e.testAccuracy)]),
      );
      const budget = tableAfter(md, '## Accuracy against budget');
      expect(budget[0]).toEqual([
        'method',
        'budget %',
        'test accuracy %',
        'realised MACs %',
        'exit shares % (exit:share)',
        'within budget',
      ]);
      const methods = ['EERO (margin)', 'global threshold', 'geometric (MSDNet)', 'patience'];
      expect(budget.slice(1).map((r) => [r[0], r[1]])).toEqual([
        ...methods.flatMap((m) => [
          [m, '30'],
          [m, '50'],
        ]),
        ...manifest.exits.map((e) => [`exit ${e.exit} alone`, '-']),
        ['oracle', '-'],
      ]);
      const eeroAtHalf = budget.find((r) => r[0] === 'EERO (margin)' && r[1] === '50')!;
      expect(eeroAtHalf.slice(2, 4)).toEqual([pct(onTest.accuracy), pct(onTest.costFraction)]);
      expect(budget.find((r) => r[0] === `exit ${manifest.exits.length} alone`)?.[3]).toBe('100');

      // calibration.csv holds the same table.
      const csv = readFileSync(path.join(reportDir, 'calibration.csv'), 'utf8').trim().split('\n');
      expect(csv.map((l) => l.split(','))).toEqual(budget);

      const svg = readFileSync(path.join(reportDir, 'accuracy-vs-cost.svg'), 'utf8');
      expect(svg).toMatch(/^<svg /);
      for (const name of [`${manifest.name}: test accuracy against average cost`, ...methods, 'single exits', 'oracle']) {
        expect(svg).toContain(`>${name}</text>`);
      }

      // stdout: EERO at each budget, as in the report, then the full model, the oracle and where the files went.
      const summary = tableAfter(out, out.split('\n')[0]!);
      expect(out.split('\n')[0]).toBe('| EERO budget % | test accuracy % | realised MACs % |');
      expect(summary).toEqual(budget.filter((r) => r[0] === 'EERO (margin)').map((r) => r.slice(1, 4)));
      const oracle = budget.find((r) => r[0] === 'oracle')!;
      expect(out).toContain(`\nfull model: ${pct(manifest.exits.at(-1)!.testAccuracy)}% test accuracy; oracle ${oracle[2]}%\n`);
      expect(
        out.endsWith(`report: ${path.join(reportDir, 'calibration.md')}, calibration.csv, accuracy-vs-cost.svg\npolicies: ${policyFile}\n`),
      ).toBe(true);
    },
    SLOW_MS,
  );

  it(
    'with a guarantee, prints the certificate, writes the policies before one below the certified budget, then refuses it',
    async () => {
      const { code, out, err } = await capture([
        'calibrate',
        '--model',
        RESNET_BUNDLE,
        '--budgets',
        '0.5',
        '--agreement',
        '0.99',
        '--write-policies',
        '0.95,0.05,1',
        '--no-profile',
        ...dirs(),
      ]);
      expect(code).toBe(exitCodeFor('GUARANTEE_INFEASIBLE'));
      const certified = /\n\| ([\d.]+) \| [\d.e-]+ \| \d+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \|\n/.exec(out);
      expect(out).toContain(
        `Certified (Learn then Test, delta 0.05): agreement with the full model >= 0.99, from ${calibration.images / 2} path and ${calibration.images / 2} test images`,
      );
      expect(certified).not.toBeNull();
      expect(err).toBe(
        `eero calibrate: --write-policies 0.05: the guarantee needs a budget of at least ${certified![1]}% of the full model [GUARANTEE_INFEASIBLE]\n`,
      );
      // The report does not depend on the guarantee: it is written; of the policies, only the one before the refused fraction.
      expect(readdirSync(path.join(root, 'reports', manifest.name)).sort()).toEqual([
        'accuracy-vs-cost.svg',
        'calibration.csv',
        'calibration.md',
      ]);
      expect(readdirSync(path.join(root, 'budgets'))).toEqual([`${manifest.name}-0.95-agreement-0.99.yaml`]);
      expect(existsSync(path.join(root, 'budgets', `${manifest.name}-1-agreement-0.99.yaml`))).toBe(false);
      const policy = await loadBudgetPolicy(path.join(root, 'budgets', `${manifest.name}-0.95-agreement-0.99.yaml`), ROUTING_OPTIONS);
      // Certified at load from the calibration outputs, so no thresholds are pinned.
      expect(policy.thresholds).toBeUndefined();
      expect(policy.routing).toMatchObject({ budget: { fraction: 0.95 }, score: 'margin', agreement: 0.99, delta: 0.05 });
    },
    SLOW_MS,
  );
});

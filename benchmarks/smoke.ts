/**
 * Smoke run of the benchmarks (npm run bench:smoke; not part of npm test):
 * the accuracy and speed sections in quick mode on the shipped bundles, then
 * checks of their reports. The reports have their parts; EERO's realised cost
 * on the calibration split (where its guarantee holds) is within every budget;
 * every engine path (the one graph, runBatch, the stage chain) sends every
 * row to the same exit. No speed judgement: quick mode judges none.
 * Usage: npm run bench:smoke [-- --out DIR] (default: a temporary folder, removed after a pass).
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { runAccuracy, type AccuracyResult } from './accuracy';
import { violationLines } from './accuracy-markdown';
import { runSpeed, type SpeedResult } from './speed';
import { DEFAULT_BUNDLES, type BenchOptions } from './support/options';

const failures: string[] = [];

/** Runs one named check; a failed assertion is reported and counted, and the next check still runs. */
function check(name: string, body: () => void): void {
  try {
    body();
    process.stdout.write(`ok    ${name}\n`);
  } catch (e) {
    failures.push(name);
    process.stdout.write(`FAIL  ${name}\n${(e as Error).message}\n`);
  }
}

const ACCURACY_HEADINGS = [
  'Accuracy against budget',
  'Each exit alone',
  'Area under the curve',
  'Re-splits',
  'temperature beta',
  'calibration set size',
  'Overthinking',
  'Compared with the paper',
];
const SWEPT_METHODS = ['EERO (margin)', 'EERO (maxprob)', 'EERO (entropy)', 'global threshold', 'geometric (MSDNet)', 'patience'];

function checkAccuracy(result: AccuracyResult, outDir: string): void {
  check('accuracy: writes the report and one plot per bundle', () => {
    assert.equal(result.file, path.join(outDir, 'accuracy.md'));
    const md = readFileSync(result.file, 'utf8');
    for (const b of result.bundles) {
      assert.ok(md.includes(`## ${b.name}`), `no section for ${b.name}`);
      assert.ok(existsSync(b.plot), `no plot ${b.plot}`);
      assert.match(readFileSync(b.plot, 'utf8'), /^<svg[\s\S]*<\/svg>\s*$/);
    }
    const subheadings = md.split('\n').filter((line) => line.startsWith('### '));
    for (const heading of ACCURACY_HEADINGS) {
      assert.equal(subheadings.filter((line) => line.includes(heading)).length, result.bundles.length, `subheading "${heading}"`);
    }
    assert.equal(result.headlines.length, result.bundles.length);
  });

  check('accuracy: sweeps every method at every budget of the grid, from the cheapest exit to 100%', () => {
    for (const b of result.bundles) {
      const f = b.sweep.fractions;
      const cheapest = (b.costs[0] as number) / (b.costs[b.costs.length - 1] as number);
      assert.ok(Math.abs((f[0] as number) - cheapest) < 1e-9, `${b.name}: grid starts at ${f[0]}, the cheapest exit is ${cheapest}`);
      assert.equal(f[f.length - 1], 1);
      const methods = new Set(b.sweep.test.map((p) => p.method));
      for (const m of SWEPT_METHODS) assert.ok(methods.has(m), `${b.name}: method ${m} missing`);
      assert.equal(b.sweep.test.length, methods.size * f.length);
      assert.deepEqual(
        b.sweep.reference.map((p) => p.method),
        [...Array.from(b.costs, (_, l) => `exit ${l + 1} alone`), 'oracle'],
      );
      for (const p of b.sweep.test) {
        const shares = p.exitShares.reduce((a, s) => a + s, 0);
        assert.ok(Math.abs(shares - 1) < 1e-9, `${b.name} ${p.method}: exit shares sum to ${shares}`);
      }
    }
  });

  check("accuracy: EERO's realised cost on the calibration split is within the budget", () => {
    for (const b of result.bundles) {
      const eero = b.sweep.calibration.filter((p) => p.kind === 'eero');
      assert.equal(eero.length, 3 * b.sweep.fractions.length);
      for (const p of eero) assert.ok(p.averageCost <= p.budget * (1 + 1e-9), `${b.name} ${p.method}: ${p.averageCost} > ${p.budget}`);
      assert.deepEqual(
        b.violations.filter((v) => v.split === 'calibration' && v.method.startsWith('EERO')),
        [],
      );
    }
  });

  check('accuracy: states a verdict for every claim of the paper, computed from the numbers', () => {
    for (const b of result.bundles) {
      assert.ok(b.claims.length >= 6, `${b.name}: ${b.claims.length} claims`);
      for (const c of b.claims) assert.ok(['agrees', 'disagrees', 'inconclusive', 'not measured'].includes(c.verdict), c.verdict);
      assert.ok(b.auc.range[1] > b.auc.range[0]);
      assert.ok((b.auc.meanAccuracy.get('EERO (margin)') ?? 0) > 0);
    }
  });

  check('accuracy: flags a budget violation loudly in the Markdown', () => {
    const text = violationLines([{ split: 'calibration', method: 'EERO (margin)', budgetFraction: 0.5, costFraction: 0.51 }]).join('\n');
    assert.match(text, /BUDGET VIOLATIONS: 1/);
    assert.ok(text.includes('| calibration | EERO (margin) | 50.00 | 51.000 |'));
  });
}

function checkSpeed(result: SpeedResult): void {
  check('speed: measures every variant of both bundles and the untrained ResNet-18 at batch 1, 16 and 64', () => {
    assert.deepEqual(
      result.subjects.map((s) => s.name),
      ['resnet18-fmnist', 'convnext-fmnist', 'resnet18-untrained-64'],
    );
    for (const s of result.subjects) {
      assert.deepEqual(
        s.batches.map((b) => b.batch),
        [1, 16, 64],
      );
      for (const b of s.batches) {
        const keys = new Set<string>(b.variants.map((v) => v.key));
        for (const k of ['full', 'graph', 'graph-all', 'chain', 'chain-all', ...(s.untrained ? [] : ['engine'])])
          assert.ok(keys.has(k), `${s.name} batch ${b.batch}: variant ${k} missing`);
        for (const v of b.variants) assert.ok(v.imagesPerSecond > 0, `${s.name} ${v.key}: ${v.imagesPerSecond} images/s`);
        assert.ok(Math.abs(b.shares.reduce((a, x) => a + x, 0) - 1) < 1e-9);
        assert.ok(b.timeIdeal > 1 && b.macIdeal > 1, `${s.name} batch ${b.batch}: ideals ${b.timeIdeal}, ${b.macIdeal}`);
        assert.ok(
          b.stageMs.every((ms) => ms > 0),
          `${s.name} batch ${b.batch}: a stage took no time`,
        );
      }
    }
    const md = readFileSync(result.file, 'utf8');
    for (const heading of ['## Targets', '## resnet18-fmnist', '## convnext-fmnist', '## resnet18-untrained-64', "## The CPU's peak"])
      assert.ok(md.includes(heading), `heading ${heading}`);
  });

  check('speed: routes every row to the same exit on the one graph (routing outputs only), runBatch and the stage chain', () => {
    for (const s of result.subjects)
      for (const b of s.batches) assert.deepEqual([s.name, b.batch, b.mismatches], [s.name, b.batch, { graph: 0, engine: 0 }]);
    // The untrained network's fixed mix: an equal share at each of its exits.
    const untrained = result.subjects.find((s) => s.untrained);
    for (const share of untrained?.batches[2]?.shares ?? []) assert.ok(Math.abs(share - 0.25) < 1e-9, `share ${share}`);
  });

  check('speed: states every target, judged only outside quick mode', () => {
    assert.ok(result.checks.length >= 3 * 3 + 2 * 2, `${result.checks.length} targets`);
    assert.deepEqual(
      result.warnings.filter((w) => w.includes('misses')),
      [],
    );
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { out: { type: 'string' } } });
  const outDir = values.out === undefined ? mkdtempSync(path.join(tmpdir(), 'eero-bench-smoke-')) : path.resolve(values.out);
  const options: BenchOptions = { quick: true, outDir, bundles: DEFAULT_BUNDLES, threads: undefined, only: undefined };
  checkAccuracy(await runAccuracy(options), outDir);
  checkSpeed(await runSpeed({ ...options, threads: 1 }));
  if (failures.length > 0) {
    process.stdout.write(`bench:smoke: ${failures.length} check(s) FAILED; reports kept in ${outDir}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write('bench:smoke: every check passed\n');
  if (values.out === undefined) rmSync(outDir, { recursive: true, force: true });
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}

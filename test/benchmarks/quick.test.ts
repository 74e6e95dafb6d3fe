/**
 * Smoke test of the accuracy and speed benchmarks in quick mode on the shipped
 * bundles: the reports have their parts, EERO's realised cost on the
 * calibration split (where its guarantee holds) is within every budget, and
 * every engine path (the one graph, runBatch, the stage chain) sends every row
 * to the same exit. No speed assertions.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runAccuracy, type AccuracyResult } from '../../benchmarks/accuracy';
import { violationLines } from '../../benchmarks/accuracy-markdown';
import { runSpeed, type SpeedResult } from '../../benchmarks/speed';
import { DEFAULT_BUNDLES } from '../../benchmarks/support/options';

describe('benchmarks: accuracy section, quick mode', () => {
  let out: string;
  let result: AccuracyResult;

  beforeAll(async () => {
    out = mkdtempSync(path.join(tmpdir(), 'eero-bench-'));
    result = await runAccuracy({ quick: true, outDir: out, bundles: DEFAULT_BUNDLES, threads: undefined, only: undefined });
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('writes the report and one plot per bundle', () => {
    expect(result.file).toBe(path.join(out, 'accuracy.md'));
    const md = readFileSync(result.file, 'utf8');
    for (const b of result.bundles) {
      expect(md).toContain(`## ${b.name}`);
      expect(existsSync(b.plot)).toBe(true);
      expect(readFileSync(b.plot, 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    }
    const subheadings = md.split('\n').filter((line) => line.startsWith('### '));
    for (const heading of [
      'Accuracy against budget',
      'Each exit alone',
      'Area under the curve',
      'Re-splits',
      'temperature beta',
      'calibration set size',
      'Overthinking',
      'Compared with the paper',
    ]) {
      expect(subheadings.filter((line) => line.includes(heading))).toHaveLength(result.bundles.length);
    }
    expect(result.headlines).toHaveLength(result.bundles.length);
  });

  it('sweeps every method at every budget of the grid, from the cheapest exit to 100%', () => {
    for (const b of result.bundles) {
      const f = b.sweep.fractions;
      expect(f[0]).toBeCloseTo((b.costs[0] as number) / (b.costs[b.costs.length - 1] as number), 9);
      expect(f[f.length - 1]).toBe(1);
      const methods = new Set(b.sweep.test.map((p) => p.method));
      expect([...methods]).toEqual(
        expect.arrayContaining(['EERO (margin)', 'EERO (maxprob)', 'EERO (entropy)', 'global threshold', 'geometric (MSDNet)', 'patience']),
      );
      expect(b.sweep.test).toHaveLength(methods.size * f.length);
      expect(b.sweep.reference.map((p) => p.method)).toEqual([...Array.from(b.costs, (_, l) => `exit ${l + 1} alone`), 'oracle']);
      for (const p of b.sweep.test) expect(p.exitShares.reduce((a, s) => a + s, 0)).toBeCloseTo(1, 9);
    }
  });

  it("EERO's realised cost on the calibration split is within the budget", () => {
    for (const b of result.bundles) {
      const eero = b.sweep.calibration.filter((p) => p.kind === 'eero');
      expect(eero.length).toBe(3 * b.sweep.fractions.length);
      for (const p of eero) expect(p.averageCost).toBeLessThanOrEqual(p.budget * (1 + 1e-9));
      expect(b.violations.filter((v) => v.split === 'calibration' && v.method.startsWith('EERO'))).toEqual([]);
    }
  });

  it('states a verdict for every claim of the paper, computed from the numbers', () => {
    for (const b of result.bundles) {
      expect(b.claims.length).toBeGreaterThanOrEqual(6);
      for (const c of b.claims) expect(['agrees', 'disagrees', 'inconclusive', 'not measured']).toContain(c.verdict);
      expect(b.auc.range[1]).toBeGreaterThan(b.auc.range[0]);
      expect(b.auc.meanAccuracy.get('EERO (margin)')).toBeGreaterThan(0);
    }
  });

  it('flags a budget violation loudly in the Markdown', () => {
    const text = violationLines([{ split: 'calibration', method: 'EERO (margin)', budgetFraction: 0.5, costFraction: 0.51 }]).join('\n');
    expect(text).toMatch(/BUDGET VIOLATIONS: 1/);
    expect(text).toContain('| calibration | EERO (margin) | 50.00 | 51.000 |');
  });
});

describe('benchmarks: speed section, quick mode', () => {
  let out: string;
  let result: SpeedResult;

  beforeAll(async () => {
    out = mkdtempSync(path.join(tmpdir(), 'eero-bench-'));
    result = await runSpeed({ quick: true, outDir: out, bundles: DEFAULT_BUNDLES, threads: 1, only: undefined });
  }, 180_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('measures every variant of both bundles and the untrained ResNet-18 at batch 1, 16 and 64', () => {
    expect(result.subjects.map((s) => s.name)).toEqual(['resnet18-fmnist', 'convnext-fmnist', 'resnet18-untrained-64']);
    for (const s of result.subjects) {
      expect(s.batches.map((b) => b.batch)).toEqual([1, 16, 64]);
      for (const b of s.batches) {
        const keys = b.variants.map((v) => v.key);
        expect(keys).toEqual(
          expect.arrayContaining(['full', 'graph', 'graph-all', 'chain', 'chain-all', ...(s.untrained ? [] : ['engine'])]),
        );
        for (const v of b.variants) expect(v.imagesPerSecond).toBeGreaterThan(0);
        expect(b.shares.reduce((a, x) => a + x, 0)).toBeCloseTo(1, 9);
        expect(b.timeIdeal).toBeGreaterThan(1);
        expect(b.macIdeal).toBeGreaterThan(1);
        expect(b.stageMs.every((ms) => ms > 0)).toBe(true);
      }
    }
    const md = readFileSync(result.file, 'utf8');
    for (const heading of ['## Targets', '## resnet18-fmnist', '## convnext-fmnist', '## resnet18-untrained-64', "## The CPU's peak"])
      expect(md).toContain(heading);
  });

  it('routes every row to the same exit on the one graph (routing outputs only), runBatch and the stage chain', () => {
    for (const s of result.subjects)
      for (const b of s.batches) expect([s.name, b.batch, b.mismatches]).toEqual([s.name, b.batch, { graph: 0, engine: 0 }]);
    // The untrained network's fixed mix: an equal share at each of its exits.
    const untrained = result.subjects.find((s) => s.untrained);
    for (const share of untrained?.batches[2]?.shares ?? []) expect(share).toBeCloseTo(0.25, 9);
  });

  it('states every target, judged only outside quick mode', () => {
    expect(result.checks.length).toBeGreaterThanOrEqual(3 * 3 + 2 * 2);
    expect(result.warnings.filter((w) => w.includes('misses'))).toEqual([]);
  });
});

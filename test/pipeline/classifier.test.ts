import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { EeroError } from '../../src/errors';
import { classifyImages, loadModelRuntime, type ModelRuntime } from '../../src/pipeline';
import { calibrateEero, evaluatePolicy, type ExitOutputs } from '../../src/router';
import { RESNET_BUNDLE } from '../support/bundles';

const fixtureDir = path.join(RESNET_BUNDLE, 'fixtures');
const fixtures = readdirSync(fixtureDir)
  .filter((f) => f.endsWith('.png'))
  .sort()
  .map((f) => new Uint8Array(readFileSync(path.join(fixtureDir, f))));
const torchLogits = (JSON.parse(readFileSync(path.join(fixtureDir, 'logits.json'), 'utf8')) as { logits: number[][][] }).logits;
const LIMIT = { limitInputPixels: 1e6 };

let runtime: ModelRuntime;
beforeAll(async () => {
  runtime = await loadModelRuntime(RESNET_BUNDLE, { engine: { intraOpThreads: 1 } });
});
afterAll(async () => runtime?.dispose());

/** The fixtures' torch logits as an ExitOutputs set, to simulate the router on exactly these images. */
function fixtureOutputs(): ExitOutputs {
  const n = torchLogits.length;
  const m = runtime.costs.length;
  const k = runtime.labels.length;
  const logits = Array.from({ length: m }, (_, l) => Float32Array.from(torchLogits.flatMap((img) => img[l] as number[])));
  return { images: n, exits: m, classes: k, labels: new Int32Array(n).fill(-1), logits };
}

describe('classifyImages', () => {
  it('exits each image where the router simulation on torch logits says, for several budgets', async () => {
    for (const fraction of [runtime.macs[0]! / runtime.macs[runtime.macs.length - 1]!, 0.4, 0.7, 1]) {
      const report = await classifyImages(runtime, fixtures, { ...LIMIT, budget: fraction, ledger: false });
      const policy = calibrateEero(runtime.calibration, runtime.costs, fraction * runtime.costs[runtime.costs.length - 1]!);
      const sim = evaluatePolicy(policy, fixtureOutputs(), runtime.costs);
      const exits = report.outcomes.map((o) => (o.ok ? o.result.exit - 1 : -1));
      expect(exits).toEqual(Array.from(sim.exitOf));
      const labels = report.outcomes.map((o) => (o.ok ? o.result.classIndex : -1));
      expect(labels).toEqual(Array.from(sim.predictions));
    }
  });

  it('gives every image the same answer alone as in a batch', async () => {
    const batch = await classifyImages(runtime, fixtures, { ...LIMIT, budget: 0.5, ledger: false });
    for (let i = 0; i < fixtures.length; i++) {
      const alone = await classifyImages(runtime, [fixtures[i]!], { ...LIMIT, budget: 0.5, ledger: false, key: i });
      const a = alone.outcomes[0]!;
      const b = batch.outcomes[i]!;
      expect(a.ok && b.ok).toBe(true);
      if (a.ok && b.ok) {
        expect(a.result.exit).toBe(b.result.exit);
        expect(a.result.classIndex).toBe(b.result.classIndex);
        expect(a.result.probability).toBeCloseTo(b.result.probability, 5);
      }
    }
  });

  it('reports cost in MACs and as a fraction, top-k sorted, and a trace of every exit passed', async () => {
    const report = await classifyImages(runtime, fixtures.slice(0, 3), { ...LIMIT, budget: 1, topk: 3, trace: true, ledger: false });
    for (const o of report.outcomes) {
      if (!o.ok) throw o.error;
      const r = o.result;
      expect(r.macs).toBe(runtime.macs[r.exit - 1]);
      expect(r.costFraction).toBeCloseTo(r.macs / runtime.macs[runtime.macs.length - 1]!, 12);
      expect(r.topk).toHaveLength(3);
      expect(r.topk[0]!.probability).toBeGreaterThanOrEqual(r.topk[1]!.probability);
      expect(r.trace?.map((t) => t.exit)).toEqual(Array.from({ length: r.exit }, (_, i) => i + 1));
    }
  });

  it('routes by the accuracy-target rule when asked, exiting where the exit agrees with the final one', async () => {
    const choice = runtime.budgets.choose({ budget: 1, accuracyTarget: 0.99, ledger: false });
    expect(choice.policy.kind).toBe('accuracy-target');
    const report = await classifyImages(runtime, fixtures, { ...LIMIT, budget: 1, accuracyTarget: 0.99, ledger: false });
    const sim = evaluatePolicy(choice.policy, fixtureOutputs(), runtime.costs);
    expect(report.outcomes.map((o) => (o.ok ? o.result.exit - 1 : -1))).toEqual(Array.from(sim.exitOf));
    await expect(classifyImages(runtime, fixtures, { ...LIMIT, accuracyTarget: 1.5 })).rejects.toMatchObject({ code: 'BAD_PARAMETER' });
  });

  it('turns a bad image into an error outcome and still classifies the rest', async () => {
    const garbage = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const truncated = fixtures[0]!.subarray(0, Math.floor(fixtures[0]!.length / 2));
    const report = await classifyImages(runtime, [fixtures[0]!, garbage, truncated, fixtures[1]!], { ...LIMIT, budget: 0.5 });
    expect(report.outcomes.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual(['ok', 'NOT_AN_IMAGE', 'CORRUPT_IMAGE', 'ok']);
  });

  it('refuses a budget below the cheapest exit, naming the cheapest feasible one', async () => {
    const cheapest = runtime.macs[0]! / runtime.macs[runtime.macs.length - 1]!;
    const err = await classifyImages(runtime, fixtures.slice(0, 1), { ...LIMIT, budget: cheapest / 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EeroError);
    expect((err as EeroError).code).toBe('BUDGET_INFEASIBLE');
    expect((err as EeroError).details?.cheapestFeasibleFraction).toBeCloseTo(cheapest, 9);
    expect((err as EeroError).message).toMatch(/cheapest feasible budget .*% of the full model/);
  });

  it('lets the ledger force exits on a stream of hard images so the average stays within budget plus one image', async () => {
    // Hard images: noise that no exit is sure about; at a tight budget the ledger must step in.
    const noise = await import('sharp').then(async ({ default: sharp }) => {
      const out: Uint8Array[] = [];
      for (let i = 0; i < 48; i++) {
        const px = Buffer.alloc(28 * 28);
        for (let j = 0; j < px.length; j++) px[j] = (j * 7919 + i * 104729) % 251;
        out.push(
          new Uint8Array(
            await sharp(px, { raw: { width: 28, height: 28, channels: 1 } })
              .png()
              .toBuffer(),
          ),
        );
      }
      return out;
    });
    const budget = 0.3;
    const choice = runtime.budgets.choose({ budget });
    const before = choice.ledger!.snapshot();
    const report = await classifyImages(runtime, noise, { ...LIMIT, budget });
    const after = choice.ledger!.snapshot();
    const n = after.images - before.images;
    const spent = after.spent - before.spent;
    const full = runtime.costs[runtime.costs.length - 1]!;
    expect(n).toBe(noise.length);
    expect(spent / n).toBeLessThanOrEqual(budget * full + full / n + 1e-6);
    const forced = report.outcomes.filter((o) => o.ok && o.result.forced).length;
    expect(after.forcedExits - before.forcedExits).toBe(forced);
  });
});

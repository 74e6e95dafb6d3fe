import sharp from 'sharp';
import { classifyImages } from '../../src/pipeline';
import type { Service } from '../../src/server';
import { fixturePngs, metricSum, pool, postImage, startTestService, type ImageJson } from './harness';

let service: Service;

beforeAll(async () => {
  service = await startTestService();
});
afterAll(() => service?.close());

/** Fixtures and simple variants of them: a pool to pick hard images from. */
async function candidates(): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const p of fixturePngs()) {
    out.push(
      p,
      await sharp(p).negate().png().toBuffer(),
      await sharp(p).rotate(90).png().toBuffer(),
      await sharp(p).blur(2).png().toBuffer(),
    );
  }
  return out;
}

describe('the live budget ledger on a stream of hard images', () => {
  test('realised average cost stays within budget + one full cost / n, and the forced exits are counted in /metrics', async () => {
    const runtime = service.models.get('resnet18-fmnist')?.runtime;
    if (!runtime) throw new Error('no runtime');
    const full = runtime.costs[runtime.costs.length - 1] as number;
    const fractions = Array.from(runtime.costs, (c) => c / full);
    // A budget between the two cheapest exits: only just feasible.
    const budget = ((fractions[0] as number) + (fractions[1] as number)) / 2;

    // Hard = leaves after exit 1 on confidence alone (no ledger) at this budget.
    const pool0 = await candidates();
    const alone = await classifyImages(runtime, pool0, { budget, ledger: false, limitInputPixels: 1e7 });
    const hard = alone.outcomes.flatMap((o, i) =>
      o.ok && o.result.exit > 1 ? [{ bytes: pool0[i] as Buffer, cost: o.result.costFraction }] : [],
    );
    expect(hard.length).toBeGreaterThan(0);
    const n = 48;
    const stream = Array.from({ length: n }, (_, i) => hard[i % hard.length] as { bytes: Buffer; cost: number });
    const unguarded = stream.reduce((s, h) => s + h.cost, 0) / n;
    // Without the ledger this stream would overspend by more than the ledger's allowance: the test is not vacuous.
    expect(unguarded).toBeGreaterThan(budget + 1 / n);

    const answers = await pool(n, 4, async (i) => {
      const res = await postImage<ImageJson>(service.url, stream[i]?.bytes as Buffer, `?budget=${budget}`);
      expect(res.status).toBe(200);
      return res.body;
    });
    const realised = answers.reduce((s, r) => s + r.cost.fraction, 0) / n;
    expect(realised).toBeLessThanOrEqual(budget + 1 / n);
    const forced = answers.filter((r) => r.forced).length;
    expect(forced).toBeGreaterThan(0);

    const policy = answers[0]?.budget.policy as string;
    const ledger = runtime.budgets.ledgerSnapshots().find((l) => l.name === policy)?.snapshot;
    expect(ledger?.images).toBe(n);
    expect((ledger?.averageCost as number) / full).toBeLessThanOrEqual(budget + 1 / n);
    expect(ledger?.forcedExits).toBe(forced);
    expect(ledger?.balance).toBeGreaterThanOrEqual(-full);

    const labels = { model: 'resnet18-fmnist', policy };
    expect(await metricSum(service.url, 'eero_forced_exits_total', labels)).toBe(forced);
    expect(await metricSum(service.url, 'eero_images_total', labels)).toBe(n);
    expect(await metricSum(service.url, 'eero_macs_spent_total', labels)).toBe(answers.reduce((s, r) => s + r.cost.macs, 0));
  });
});

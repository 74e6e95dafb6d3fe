import sharp from 'sharp';
import { createClassifier, loadModel } from '../../src/pipeline';
import { RESNET_BUNDLE } from '../support/bundles';
import type { Service } from '../../src/server';
import { fixturePngs, metricSum, pool, postFiles, postImage, startTestService, type ImageJson } from './harness';

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

/** The images that leave after exit 1 on confidence alone at `fraction` of the full cost (a model without a ledger). */
async function hardImages(fraction: number): Promise<Array<{ bytes: Buffer; cost: number }>> {
  const images = await candidates();
  const model = await loadModel(RESNET_BUNDLE, { budget: { fraction: 1 }, ledger: false }, { engine: { intraOpThreads: 1 } });
  try {
    const free = createClassifier(model, { batching: { maxBatch: 64, maxWaitMs: 0, maxQueue: 256 }, limitInputPixels: 1e7 });
    const answer = await free.classify(images, { routing: { budget: { fraction } } });
    return answer.outcomes.flatMap((o, i) =>
      o.ok && o.result.exit > 1 ? [{ bytes: images[i] as Buffer, cost: o.result.costFraction }] : [],
    );
  } finally {
    await model.dispose();
  }
}

describe('one strict ledger per model, on a stream of hard images', () => {
  let service: Service;
  let budget: number;
  beforeAll(async () => {
    // A budget between the two cheapest exits: only just feasible.
    const probe = await startTestService();
    const { costs, full } = probe.models.get('resnet18-fmnist')!.model.costs;
    await probe.close();
    budget = ((costs[0] as number) + (costs[1] as number)) / 2 / full;
    service = await startTestService({ budget });
  });
  afterAll(() => service?.close());

  test('holds spent <= B x images after every answer, however the requests pick their budgets, and counts forced exits', async () => {
    const loaded = service.models.get('resnet18-fmnist')!.model;
    const ledger = loaded.routing.ledger!;
    const before = ledger.snapshot();
    const hard = await hardImages(budget);
    expect(hard.length).toBeGreaterThan(0);
    const n = 48;
    const stream = Array.from({ length: n }, (_, i) => hard[i % hard.length]!);
    // Unguarded, this stream would overspend: the test is not vacuous.
    expect(stream.reduce((s, h) => s + h.cost, 0) / n).toBeGreaterThan(budget + 0.01);
    const full = loaded.costs.full;
    const answers = await pool(n, 4, async (i) => {
      // The attack from the findings: each request a slightly different budget at or under B (none may escape the ledger).
      const asked = budget * (1 - i * 1e-4);
      const res = await postImage<ImageJson>(service.url, stream[i]!.bytes, `?budget=${asked}`);
      expect(res.status).toBe(200);
      const s = ledger.snapshot();
      expect(s.spent - before.spent).toBeLessThanOrEqual((s.images - before.images) * budget * full * (1 + 1e-12));
      return res.body;
    });
    const realised = answers.reduce((s, r) => s + r.cost.fraction, 0) / n;
    expect(realised).toBeLessThanOrEqual(budget + 1e-12);
    const forced = answers.filter((r) => r.forced).length;
    expect(forced).toBeGreaterThan(0);
    expect(answers.filter((r) => r.forced).every((r) => r.stoppedBy === 'ledger')).toBe(true);
    const labels = { model: 'resnet18-fmnist' };
    expect(await metricSum(service.url, 'eero_forced_exits_total', { ...labels, reason: 'ledger' })).toBe(ledger.snapshot().forcedExits);
    expect(await metricSum(service.url, 'eero_macs_spent_total', labels)).toBeCloseTo(
      (ledger.snapshot().spent * loaded.costs.fullMacs) / full,
      0,
    );
  });

  test('serves a multi-image request where the ledger binds on the one graph, which grants the steps itself', async () => {
    const loaded = service.models.get('resnet18-fmnist')!.model;
    const ledger = loaded.routing.ledger!;
    const before = ledger.snapshot();
    const labels = { model: 'resnet18-fmnist' };
    const graphRuns = await metricSum(service.url, 'eero_inference_executions_total', { ...labels, path: 'graph' });
    const hard = await hardImages(budget);
    const files = Array.from({ length: 8 }, (_, i) => ({ name: `h${i}.png`, bytes: hard[i % hard.length]!.bytes }));
    const res = await postFiles<{ results: ImageJson[] }>(service.url, files, {}, `?budget=${budget}`);
    expect(res.status).toBe(200);
    const s = ledger.snapshot();
    expect(s.spent - before.spent).toBeLessThanOrEqual((s.images - before.images) * budget * loaded.costs.full * (1 + 1e-12));
    expect(res.body.results.some((r) => r.stoppedBy === 'ledger' && r.forced)).toBe(true);
    expect(await metricSum(service.url, 'eero_inference_executions_total', { ...labels, path: 'graph' })).toBeGreaterThan(graphRuns);
  });

  test('a budget above the model budget is refused with 422 BUDGET_ABOVE_LIMIT naming the limit; nothing runs', async () => {
    const ledger = service.models.get('resnet18-fmnist')!.model.routing.ledger!;
    const images = ledger.snapshot().images;
    for (const asked of [budget * 1.01, 0.9, '1']) {
      const res = await postImage<{ error: { code: string; message: string; details: { limitFraction: number } } }>(
        service.url,
        fixturePngs()[0]!,
        `?budget=${asked}`,
      );
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('BUDGET_ABOVE_LIMIT');
      expect(res.body.error.details.limitFraction).toBeCloseTo(budget, 12);
    }
    expect(ledger.snapshot().images).toBe(images);
  });
});

/** One ledger per model whatever the transport: REST and gRPC requests together never overspend B. */
import sharp from 'sharp';
import { createClassifier, loadModel } from '../../src/pipeline';
import { startService, type Service } from '../../src/server';
import { RESNET_BUNDLE } from '../support/bundles';
import { grpcClients, rawBytes, rawOutput, unary, type Clients, type InferResponse } from './grpc-client';
import { fixturePngs, pool, postImage, testConfig, type ImageJson } from './harness';

/** Fixtures and variants that leave after exit 1 on confidence alone at `fraction` (a model without a ledger): they would overspend. */
async function hardImages(fraction: number): Promise<Buffer[]> {
  const images: Buffer[] = [];
  for (const p of fixturePngs()) images.push(p, await sharp(p).negate().png().toBuffer(), await sharp(p).rotate(90).png().toBuffer());
  const model = await loadModel(RESNET_BUNDLE, { budget: { fraction: 1 }, ledger: false }, { engine: { intraOpThreads: 1 } });
  try {
    const free = createClassifier(model, { batching: { maxBatch: 64, maxWaitMs: 0, maxQueue: 256 }, limitInputPixels: 1e7 });
    const answer = await free.classify(images, { routing: { budget: { fraction } } });
    return answer.outcomes.flatMap((o, i) => (o.ok && o.result.exit > 1 ? [images[i] as Buffer] : []));
  } finally {
    await model.dispose();
  }
}

describe('the ledger over REST and gRPC together', () => {
  let service: Service;
  let clients: Clients;
  let budget: number;
  beforeAll(async () => {
    const probe = await loadModel(RESNET_BUNDLE, {}, { engine: { intraOpThreads: 1 } });
    const { costs, full } = probe.costs;
    await probe.dispose();
    // Between the two cheapest exits: only just feasible, so the ledger must force exits.
    budget = ((costs[0] as number) + (costs[1] as number)) / 2 / full;
    service = await startService({ ...testConfig({ budget }), grpc: { port: 0 } }, { defaultMetrics: false });
    clients = grpcClients(service.grpc?.address as string);
  });
  afterAll(async () => {
    clients?.close();
    await service?.close();
  });

  test('spent <= B x images after every answer, with requests alternating transports, and forced exits counted', async () => {
    const loaded = service.models.get('resnet18-fmnist')!.model;
    const ledger = loaded.routing.ledger!;
    const full = loaded.costs.full;
    const hard = await hardImages(budget);
    expect(hard.length).toBeGreaterThan(0);
    const before = ledger.snapshot();
    const n = 48;
    const costs = await pool(n, 6, async (i) => {
      const bytes = hard[i % hard.length] as Buffer;
      let cost: number;
      let forced: boolean;
      if (i % 2 === 0) {
        const res = await postImage<ImageJson>(service.url, bytes);
        expect(res.status).toBe(200);
        [cost, forced] = [res.body.cost.fraction, res.body.forced];
      } else {
        const r = await unary<InferResponse>(clients.kserve, 'ModelInfer', {
          model_name: 'resnet18-fmnist',
          inputs: [{ name: 'image', datatype: 'BYTES', shape: [1] }],
          raw_input_contents: [rawBytes([bytes])],
        });
        if (!r.ok) throw r.error;
        [cost, forced] = [rawOutput(r.value, 'cost_fraction').readFloatLE(0), rawOutput(r.value, 'forced')[0] === 1];
      }
      const s = ledger.snapshot();
      expect(s.spent - before.spent).toBeLessThanOrEqual((s.images - before.images) * budget * full * (1 + 1e-12));
      return { cost, forced };
    });
    const after = ledger.snapshot();
    expect(after.images - before.images).toBe(n);
    expect((after.spent - before.spent) / n / full).toBeLessThanOrEqual(budget * (1 + 1e-12));
    // Not vacuous: the stream would overspend unguarded, and both transports' images were forced.
    expect(costs.filter((c, i) => c.forced && i % 2 === 0).length).toBeGreaterThan(0);
    expect(costs.filter((c, i) => c.forced && i % 2 === 1).length).toBeGreaterThan(0);
    // FP32 on the wire rounds the gRPC cost; the ledger's own sum is exact.
    expect(costs.reduce((s, c) => s + c.cost, 0) / n).toBeLessThanOrEqual(budget + 1e-6);
  });
});

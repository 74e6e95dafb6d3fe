/**
 * Certified or refused: with the ledger binding, an image routed by a certified rule is either
 * answered by that rule (it stopped by confidence or at the last exit) or refused with
 * CERTIFICATE_UNAVAILABLE; a request that allows it gets the forced answer marked certified: false.
 * Never a forced answer under the certified label. The shipped ResNet at B = 0.5, real sessions.
 */
import sharp from 'sharp';
import { createClassifier, loadModel, type Classifier, type ImageOutcome, type LoadedModel } from '../../src/pipeline';
import { mulberry32 } from '../../src/router';
import { RESNET_BUNDLE } from '../support/bundles';

let model: LoadedModel;
let classifier: Classifier;
let images: Uint8Array[];

beforeAll(async () => {
  model = await loadModel(RESNET_BUNDLE, { budget: { fraction: 0.5 } }, { engine: { intraOpThreads: 1 }, clock: () => 0 });
  classifier = createClassifier(model, { batching: { maxBatch: 8, maxWaitMs: 0, maxQueue: 64 }, limitInputPixels: 1e6 });
  // Noise: no exit is sure of it, so its certified rule wants the deep exits the ledger cannot pay for long.
  const rand = mulberry32(7);
  images = await Promise.all(
    Array.from({ length: 24 }, () => {
      const px = Buffer.from(Array.from({ length: 28 * 28 }, () => Math.floor(256 * rand())));
      return sharp(px, { raw: { width: 28, height: 28, channels: 1 } })
        .png()
        .toBuffer();
    }),
  );
});
afterAll(async () => {
  await classifier?.drain();
  await model?.dispose();
});

async function oneByOne(allowUncertified: boolean): Promise<ImageOutcome[]> {
  const out: ImageOutcome[] = [];
  for (const image of images) {
    const answer = await classifier.classify([image], { routing: { guarantee: { agreement: 0.99, delta: 0.05 }, allowUncertified } });
    expect(answer.choice.rule).toBe('certified');
    out.push(...answer.outcomes);
  }
  return out;
}

describe('certified answers with the ledger binding', () => {
  it('are answered by the certified rule or refused, never forced under the certified label', async () => {
    const outcomes = await oneByOne(false);
    const refused = outcomes.filter((o) => !o.ok);
    for (const o of outcomes) {
      if (o.ok) {
        expect(o.result.certified).toBe(true);
        expect(['confidence', 'last-exit']).toContain(o.result.stoppedBy);
      } else {
        expect(o.error.code).toBe('CERTIFICATE_UNAVAILABLE');
        expect(o.error.httpStatus).toBe(503);
      }
    }
    // The ledger did bind: some images were refused rather than forced.
    expect(refused.length).toBeGreaterThan(0);
    const ledger = model.routing.ledger?.snapshot();
    expect(ledger?.averageCost).toBeLessThanOrEqual(model.routing.limit * (1 + 1e-12));
  });

  it('are returned marked certified: false when the request allows it, and only those the ledger or a deadline forced', async () => {
    const outcomes = await oneByOne(true);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    const results = outcomes.flatMap((o) => (o.ok ? [o.result] : []));
    const marked = results.filter((r) => r.certified === false);
    expect(marked.length).toBeGreaterThan(0);
    for (const r of results) expect(r.certified).toBe(!r.forced);
  });
});

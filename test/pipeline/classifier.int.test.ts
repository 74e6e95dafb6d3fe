import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { EeroError } from '../../src/errors';
import {
  createClassifier,
  loadModel,
  type Classifier,
  type ClassifyRequest,
  type LoadedModel,
  type RoutingRequest,
} from '../../src/pipeline';
import { calibrateEero, evaluatePolicy, type ExitOutputs } from '../../src/router';
import { RESNET_BUNDLE } from '../support/bundles';

const fixtureDir = path.join(RESNET_BUNDLE, 'fixtures');
const fixtures = readdirSync(fixtureDir)
  .filter((f) => f.endsWith('.png'))
  .sort()
  .map((f) => new Uint8Array(readFileSync(path.join(fixtureDir, f))));
const torchLogits = (JSON.parse(readFileSync(path.join(fixtureDir, 'logits.json'), 'utf8')) as { logits: number[][][] }).logits;
const BATCHING = { maxBatch: 64, maxWaitMs: 0, maxQueue: 256 };

/** A model served at budget 1 without a ledger, so requests may ask any budget and nothing is forced. */
let open: LoadedModel;
let free: Classifier;
beforeAll(async () => {
  // A clock that stands still: the limit on new rules is counted, never timed out, in these tests.
  open = await loadModel(RESNET_BUNDLE, { budget: { fraction: 1 }, ledger: false }, { engine: { intraOpThreads: 1 }, clock: () => 0 });
  free = createClassifier(open, { batching: BATCHING, limitInputPixels: 1e6 });
});
afterAll(async () => open?.dispose());

const fraction = (f: number): RoutingRequest => ({ budget: { fraction: f } });
const req = (routing: RoutingRequest, extra: Partial<ClassifyRequest> = {}): ClassifyRequest => ({ routing, key: 0, ...extra });

/** The fixtures' torch logits as an ExitOutputs set, to simulate the router on exactly these images. */
function fixtureOutputs(): ExitOutputs {
  const n = torchLogits.length;
  const m = open.costs.costs.length;
  const k = open.labels.length;
  const logits = Array.from({ length: m }, (_, l) => Float32Array.from(torchLogits.flatMap((img) => img[l] as number[])));
  return { images: n, exits: m, classes: k, labels: new Int32Array(n).fill(-1), logits };
}

describe('the classifier (the one classify path) on the shipped ResNet', () => {
  it('exits each image where the router simulation on torch logits says, for several budgets', async () => {
    const { macs, costs, full } = open.costs;
    for (const f of [macs[0]! / macs[macs.length - 1]!, 0.4, 0.7, 1]) {
      const answer = await free.classify(fixtures, req(fraction(f)));
      const sim = evaluatePolicy(calibrateEero(open.routing.calibration, costs, f * full), fixtureOutputs(), costs);
      expect(answer.outcomes.map((o) => (o.ok ? o.result.exit - 1 : -1))).toEqual(Array.from(sim.exitOf));
      expect(answer.outcomes.map((o) => (o.ok ? o.result.classIndex : -1))).toEqual(Array.from(sim.predictions));
    }
  });

  it('gives every image the same answer alone as in a batch', async () => {
    const batch = await free.classify(fixtures, req(fraction(0.5)));
    for (let i = 0; i < fixtures.length; i++) {
      const a = (await free.classify([fixtures[i]!], req(fraction(0.5), { key: i }))).outcomes[0]!;
      const b = batch.outcomes[i]!;
      if (!a.ok || !b.ok) throw new Error('expected answers');
      expect([a.result.exit, a.result.classIndex]).toEqual([b.result.exit, b.result.classIndex]);
      expect(a.result.probability).toBeCloseTo(b.result.probability, 5);
    }
  });

  it('reports cost in MACs and as a fraction, top-k clamped and sorted, a trace of every exit passed, and why it stopped', async () => {
    const answer = await free.classify(fixtures.slice(0, 3), req(fraction(1), { topk: 50, trace: true }));
    for (const o of answer.outcomes) {
      if (!o.ok) throw o.error;
      const r = o.result;
      expect(r.macs).toBe(open.costs.macs[r.exit - 1]);
      expect(r.costFraction).toBeCloseTo(r.macs / open.costs.fullMacs, 12);
      expect(r.topk).toHaveLength(open.labels.length);
      expect(r.topk[0]!.probability).toBeGreaterThanOrEqual(r.topk[1]!.probability);
      expect(r.trace?.map((t) => t.exit)).toEqual(Array.from({ length: r.exit }, (_, i) => i + 1));
      expect(r.stoppedBy).toBe(r.exit === r.exits ? 'last-exit' : 'confidence');
      expect(o.timings.preprocessMs).toBeGreaterThan(0);
    }
  });

  it('routes by the accuracy-target rule when asked, exiting where the exit agrees with the final one', async () => {
    const choice = open.routing.choose({ accuracyTarget: 0.99 });
    expect(choice.rule).toBe('accuracy-target');
    const answer = await free.classify(fixtures, req({ accuracyTarget: 0.99 }));
    const sim = evaluatePolicy(choice.policy, fixtureOutputs(), open.costs.costs);
    expect(answer.outcomes.map((o) => (o.ok ? o.result.exit - 1 : -1))).toEqual(Array.from(sim.exitOf));
  });

  it("bounds how many new expensive rules a client can make it compute: its fifth new target in 10 s is 503 OVERLOADED, another client's is served", async () => {
    const fresh = createClassifier(open, { batching: BATCHING, limitInputPixels: 1e6 });
    const as = (client: string, t: number): Promise<unknown> =>
      fresh.classify(fixtures.slice(0, 1), req({ accuracyTarget: t }, { client }));
    for (const t of [0.951, 0.952, 0.953, 0.954]) await as('greedy', t);
    const err = (await as('greedy', 0.955).catch((e: unknown) => e)) as EeroError;
    expect([err.code, err.httpStatus, err.details?.retryAfterSeconds]).toEqual(['OVERLOADED', 503, 5]);
    expect(((await as('polite', 0.956)) as { outcomes: Array<{ ok: boolean }> }).outcomes[0]?.ok).toBe(true);
    // A rule already computed costs nothing and is always served.
    expect((await fresh.classify(fixtures.slice(0, 1), req({ accuracyTarget: 0.951 }, { client: 'greedy' }))).outcomes[0]?.ok).toBe(true);
  });

  it('turns a bad image into an error outcome and still classifies the rest', async () => {
    const garbage = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const truncated = fixtures[0]!.subarray(0, Math.floor(fixtures[0]!.length / 2));
    const refused = new EeroError('BODY_TOO_LARGE', 'too big');
    const answer = await free.classify([fixtures[0]!, garbage, truncated, refused, fixtures[1]!], req(fraction(0.5)));
    expect(answer.outcomes.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual([
      'ok',
      'NOT_AN_IMAGE',
      'CORRUPT_IMAGE',
      'BODY_TOO_LARGE',
      'ok',
    ]);
  });

  it('refuses a budget below the cheapest exit, naming the cheapest feasible one, before decoding anything', async () => {
    const cheapest = open.costs.macs[0]! / open.costs.fullMacs;
    const err = await free.classify([new Uint8Array([1])], req(fraction(cheapest / 2))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EeroError);
    expect((err as EeroError).code).toBe('BUDGET_INFEASIBLE');
    expect((err as EeroError).details?.cheapestFeasibleFraction).toBeCloseTo(cheapest, 9);
    expect((err as EeroError).message).toMatch(/cheapest feasible budget .*% of the full model/);
  });
});

/** Hard images: noise that no exit is sure about; at a tight budget the ledger must step in. */
async function noiseImages(n: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
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
}

describe('one strict ledger per model', () => {
  let model: LoadedModel;
  let classifier: Classifier;
  beforeAll(async () => {
    model = await loadModel(RESNET_BUNDLE, { budget: { fraction: 0.3 } }, { engine: { intraOpThreads: 1 } });
    classifier = createClassifier(model, { batching: BATCHING, limitInputPixels: 1e6 });
  });
  afterAll(async () => model?.dispose());

  it('keeps a stream of hard images within the budget, whatever budgets the requests ask', async () => {
    const noise = await noiseImages(48);
    const ledger = model.routing.ledger!;
    let forced = 0;
    // Requests with many slightly different budgets at or under B share the one ledger.
    for (let i = 0; i < noise.length; i += 4) {
      const answer = await classifier.classify(noise.slice(i, i + 4), req(fraction(0.3 - i * 1e-4), { key: i }));
      forced += answer.outcomes.filter((o) => o.ok && o.result.stoppedBy === 'ledger').length;
      const s = ledger.snapshot();
      expect(s.spent).toBeLessThanOrEqual(s.images * ledger.budget * (1 + 1e-12));
    }
    expect(ledger.snapshot().images).toBe(noise.length);
    expect(ledger.snapshot().forcedExits).toBe(forced);
    expect(forced).toBeGreaterThan(0);
  });

  it('refuses a request budget above the model budget with BUDGET_ABOVE_LIMIT naming the limit', async () => {
    const err = (await classifier.classify(fixtures.slice(0, 1), req(fraction(0.31))).catch((e: unknown) => e)) as EeroError;
    expect(err.code).toBe('BUDGET_ABOVE_LIMIT');
    expect(err.httpStatus).toBe(422);
    expect(err.details?.limitFraction).toBeCloseTo(0.3, 9);
    expect(err.message).toMatch(/limit 30%/);
  });

  it('settles the ledger on every path: an engine failure returns the reservation', async () => {
    const ledger = model.routing.ledger!;
    const before = ledger.snapshot();
    const broken = jest.spyOn(model.engine, 'run').mockRejectedValueOnce(new EeroError('INTERNAL', 'engine broke'));
    // The one-graph path is tried first when the pool allows: break it as well.
    const graph = model.engine.earlyExit
      ? jest.spyOn(model.engine.earlyExit, 'run').mockRejectedValueOnce(new EeroError('INTERNAL', 'engine broke'))
      : undefined;
    try {
      await expect(classifier.classify(fixtures.slice(0, 4), req({}))).rejects.toMatchObject({ code: 'INTERNAL' });
    } finally {
      broken.mockRestore();
      graph?.mockRestore();
    }
    const after = ledger.snapshot();
    expect(after).toEqual(expect.objectContaining({ openReservations: 0, lent: 0, images: before.images, credit: before.credit }));
    // And the model serves the next request normally.
    expect((await classifier.classify(fixtures.slice(0, 2), req({}))).outcomes.every((o) => o.ok)).toBe(true);
  });

  it('drops a request aborted before its batch runs: nothing reaches the engine or the ledger', async () => {
    const ledger = model.routing.ledger!;
    const before = ledger.snapshot().images;
    const gone = new AbortController();
    gone.abort(new EeroError('ABORTED', 'the client went away'));
    await expect(classifier.classify(fixtures, req({}, { signal: gone.signal }))).rejects.toMatchObject({ code: 'ABORTED' });
    expect(ledger.snapshot().images).toBe(before);
    expect(classifier.depth).toBe(0);
  });
});

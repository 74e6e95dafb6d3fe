import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { createClassifier, loadModel, type Classifier, type LoadedModel } from '../../src/pipeline';
import { AgreementMonitor } from '../../src/pipeline/monitor';
import { scoreRow, softmaxRow, type ThresholdPolicy } from '../../src/router';
import { RESNET_BUNDLE } from '../support/bundles';

const fixtureDir = path.join(RESNET_BUNDLE, 'fixtures');
const fixtures = readdirSync(fixtureDir)
  .filter((f) => f.endsWith('.png'))
  .sort()
  .map((f) => new Uint8Array(readFileSync(path.join(fixtureDir, f))));

/** Polls `cond` (what it waits for is named at the call); no deadline of its own: Jest's timeout ends a hang. */
async function until(cond: () => boolean, _what: string): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
}

describe('the live agreement monitor', () => {
  let model: LoadedModel;
  let classifier: Classifier;
  const samples: Array<{ exit: number; agreed: boolean }> = [];
  beforeAll(async () => {
    model = await loadModel(RESNET_BUNDLE, { budget: { fraction: 0.5 } }, { engine: { intraOpThreads: 1 } });
    classifier = createClassifier(model, {
      batching: { maxBatch: 64, maxWaitMs: 0, maxQueue: 256 },
      limitInputPixels: 1e6,
      monitor: {
        sampleRate: 1,
        reservoir: 64,
        minSamples: 8,
        autoRecalibrate: false,
        onSample: (exit, agreed) => samples.push({ exit, agreed }),
      },
    });
  });
  afterAll(async () => model?.dispose());

  it('continues answered images to the final exit in the background and measures agreement per exit, outside the ledger', async () => {
    const answer = await classifier.classify(fixtures, { routing: {}, key: 0 });
    const ledgerImages = model.routing.ledger!.snapshot().images;
    const monitor = classifier.monitor!;
    await until(() => samples.length === fixtures.length, 'every image monitored');
    // What agreement must be: each answer against the full model's own answer for the same image.
    const full = await loadModel(RESNET_BUNDLE, { budget: { fraction: 1 }, ledger: false }, { engine: { intraOpThreads: 1 } });
    try {
      const k = model.labels.length;
      const last = model.costs.costs.length - 1;
      const input = new Float32Array(fixtures.length * model.preprocessor.imageLength);
      await Promise.all(
        fixtures.map((b, i) => full.preprocessor.preprocessInto(b, input, i * model.preprocessor.imageLength, { limitInputPixels: 1e6 })),
      );
      const final = new Int32Array(fixtures.length);
      const scoring = model.routing.choose({}).policy.scoring;
      await full.engine.run(input, fixtures.length, (exit, logits, rows) => {
        if (exit === last) rows.forEach((r, j) => (final[r] = scoreRow(softmaxRow(logits, j * k, k), last, r, scoring).prediction));
        return new Uint8Array(rows.length);
      });
      const snap = monitor.snapshot();
      for (let l = 0; l < last; l++) {
        const here = answer.outcomes.flatMap((o, i) => (o.ok && o.result.exit === l + 1 ? [o.result.classIndex === final[i]] : []));
        const row = snap.agreement.find((a) => a.exit === l + 1)!;
        expect(row.samples).toBe(here.length);
        if (here.length > 0) expect(row.ratio).toBeCloseTo(here.filter(Boolean).length / here.length, 12);
        expect(row.lower).toBeLessThanOrEqual(Number.isNaN(row.ratio) ? 1 : row.ratio);
      }
      const all = snap.agreement.find((a) => a.exit === 'all')!;
      const agree = answer.outcomes.filter((o, i) => o.ok && o.result.classIndex === final[i]).length;
      expect(all.ratio).toBeCloseTo(agree / fixtures.length, 12);
    } finally {
      await full.dispose();
    }
    const snap = monitor.snapshot();
    expect(snap.macs).toBe(fixtures.length * model.costs.fullMacs);
    expect(snap.reservoir).toBe(fixtures.length);
    // The background runs are not charged to the ledger.
    expect(model.routing.ledger!.snapshot().images).toBe(ledgerImages);
  });

  it('recalibrates from the reservoir without labels: new thresholds, a new version in every later answer', async () => {
    const thresholds = (): number[] => Array.from((model.routing.choose({}).policy as ThresholdPolicy).thresholds);
    const before = thresholds();
    const { version, samples: used } = await classifier.monitor!.recalibrate();
    expect(version).toBe(2);
    expect(used).toBe(fixtures.length);
    expect(model.routing.choose({}).version).toBe(2);
    expect(thresholds()).not.toEqual(before);
    const answer = await classifier.classify(fixtures.slice(0, 2), { routing: {} });
    expect(answer.outcomes.every((o) => o.ok && o.result.thresholdsVersion === 2)).toBe(true);
  });

  it('refuses a recalibration from too few samples', async () => {
    const small = createClassifier(model, {
      batching: { maxBatch: 8, maxWaitMs: 0, maxQueue: 8 },
      limitInputPixels: 1e6,
      monitor: { sampleRate: 1, reservoir: 64, minSamples: 500, autoRecalibrate: false },
    });
    await expect(small.monitor!.recalibrate()).rejects.toMatchObject({ code: 'BAD_PARAMETER' });
  });
});

describe('the monitor runs only when the model is idle, and can recalibrate by itself', () => {
  let model: LoadedModel;
  beforeAll(async () => {
    model = await loadModel(RESNET_BUNDLE, { budget: { fraction: 0.5 } }, { engine: { intraOpThreads: 1 } });
  });
  afterAll(async () => model?.dispose());

  it('waits while the batcher has work: no background run starts until it is idle', async () => {
    let idle = false;
    let asked = (): void => undefined;
    const askedWhileBusy = new Promise<void>((r) => (asked = r));
    const seen: number[] = [];
    const monitor = new AgreementMonitor(
      model,
      { sampleRate: 1, reservoir: 16, minSamples: 4, autoRecalibrate: false, onSample: (e) => seen.push(e) },
      () => {
        asked();
        return idle;
      },
    );
    const answer = await createClassifier(model, {
      batching: { maxBatch: 16, maxWaitMs: 0, maxQueue: 64 },
      limitInputPixels: 1e6,
    }).classify(fixtures.slice(0, 4), { routing: {}, key: 0 });
    const input = new Float32Array(4 * model.preprocessor.imageLength);
    const metas = answer.outcomes.map((_, i) => ({ choice: model.routing.choose({}), key: i, topk: 1, trace: false, arrivedAt: 0 }));
    monitor.offer(
      input,
      metas,
      answer.outcomes.map((o) => (o.ok ? o.result : (undefined as never))),
    );
    const run = model.engine.run.bind(model.engine);
    let runs = 0;
    (model.engine as { run: typeof run }).run = (...args) => {
      runs++;
      return run(...args);
    };
    try {
      monitor.kick();
      // Told "busy", the monitor starts no engine run (a run starts in the same turn as the answer "idle").
      await askedWhileBusy;
      expect([runs, seen.length]).toEqual([0, 0]);
      idle = true;
      monitor.kick();
      await until(() => seen.length === 4, 'monitored once idle');
      expect(runs).toBeGreaterThan(0);
    } finally {
      (model.engine as { run: typeof run }).run = run;
    }
  });

  it('with autoRecalibrate, swaps the thresholds every minSamples new samples', async () => {
    const c = createClassifier(model, {
      batching: { maxBatch: 64, maxWaitMs: 0, maxQueue: 256 },
      limitInputPixels: 1e6,
      monitor: { sampleRate: 1, reservoir: 64, minSamples: 8, autoRecalibrate: true },
    });
    const before = model.routing.version;
    await c.classify(fixtures, { routing: {}, key: 100 });
    await until(() => model.routing.version >= before + 2, 'two recalibrations from 16 samples');
    expect(c.monitor!.snapshot().recalibrations).toBeGreaterThanOrEqual(2);
  });
});

describe('the monitor at shutdown', () => {
  it('drain waits for a background run in flight, so the model can be disposed right after without a failed run', async () => {
    const model = await loadModel(RESNET_BUNDLE, { budget: { fraction: 0.5 } }, { engine: { intraOpThreads: 1 } });
    const errors: unknown[] = [];
    let started = 0;
    let settled = 0;
    const run = model.engine.run.bind(model.engine);
    // Count the monitor's engine runs (every row to the last exit) as they start and as they end.
    (model.engine as { run: typeof run }).run = (...args) => {
      started++;
      return run(...args).finally(() => settled++);
    };
    const c = createClassifier(model, {
      batching: { maxBatch: 64, maxWaitMs: 0, maxQueue: 256 },
      limitInputPixels: 1e6,
      monitor: { sampleRate: 1, reservoir: 64, minSamples: 8, autoRecalibrate: false, batch: 8 },
      onMonitorError: (e) => errors.push(e),
    });
    await c.classify(fixtures, { routing: {}, key: 0 });
    const answered = started;
    await until(() => started > answered, 'a background run started');
    await c.drain();
    // Nothing still runs once drain has resolved: disposing now fails no run.
    expect(settled).toBe(started);
    await model.dispose();
    expect(errors).toEqual([]);
  });
});

/** The one-graph early-exit engine and the stage chain give the same exits and labels; the plain mode runs the full model. */
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import {
  createClassifier,
  loadModel,
  type Classifier,
  type ClassifyAnswer,
  type LoadedModel,
  type RoutingRequest,
} from '../../src/pipeline';
import { CONVNEXT_BUNDLE, RESNET_BUNDLE } from '../support/bundles';

async function images(dir: string): Promise<Uint8Array[]> {
  const fx = path.join(dir, 'fixtures');
  const base = readdirSync(fx)
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((f) => readFileSync(path.join(fx, f)));
  const out: Uint8Array[] = [];
  // Variants move scores around, so that many images sit near some threshold.
  for (const b of base) out.push(b, await sharp(b).blur(1.2).png().toBuffer(), await sharp(b).linear(0.7, 30).png().toBuffer());
  return out;
}

const exitsAndLabels = (a: ClassifyAnswer): Array<[number, string, string]> =>
  a.outcomes.map((o) => (o.ok ? [o.result.exit, o.result.label, o.result.stoppedBy] : [-1, o.error.code, '']));

describe.each([
  ['resnet18-fmnist', RESNET_BUNDLE],
  ['convnext-fmnist', CONVNEXT_BUNDLE],
])('engine paths on %s', (_name, dir) => {
  let graph: LoadedModel;
  let stages: LoadedModel;
  let viaGraph: Classifier;
  let viaStages: Classifier;
  let runs: string[];
  let pngs: Uint8Array[];
  beforeAll(async () => {
    pngs = await images(dir);
    const settings = { budget: { fraction: 1 }, ledger: false, profile: true, profileBatch: 8 };
    graph = await loadModel(dir, settings, { engine: { intraOpThreads: 1, graph: 'auto' } });
    stages = await loadModel(dir, settings, { engine: { intraOpThreads: 1, graph: 'stages' } });
    runs = [];
    const batching = { maxBatch: 64, maxWaitMs: 0, maxQueue: 256 };
    viaGraph = createClassifier(graph, { batching, limitInputPixels: 1e6, onBatch: (_r, run) => runs.push(run?.path ?? '?') });
    viaStages = createClassifier(stages, { batching, limitInputPixels: 1e6 });
  });
  afterAll(async () => Promise.all([graph?.dispose(), stages?.dispose()]));

  it.each<[string, RoutingRequest]>([
    ['EERO at 0.3', { budget: { fraction: 0.3 } }],
    ['EERO at 0.5', { budget: { fraction: 0.5 } }],
    ['EERO at 0.5, entropy', { budget: { fraction: 0.5 }, score: 'entropy' }],
    ['EERO at 0.5, maxprob', { budget: { fraction: 0.5 }, score: 'maxprob' }],
    ['the accuracy-target rule', { accuracyTarget: 0.99 }],
    ['a certified agreement', { guarantee: { agreement: 0.99, delta: 0.1 } }],
  ])('gives identical exits, labels and stop reasons for %s', async (_what, routing) => {
    runs.length = 0;
    const a = await viaGraph.classify(pngs, { routing, key: 0, trace: true });
    const b = await viaStages.classify(pngs, { routing, key: 0, trace: true });
    expect(runs).toEqual(['graph']);
    expect(exitsAndLabels(a)).toEqual(exitsAndLabels(b));
    // Traces agree too: the score at every exit passed.
    a.outcomes.forEach((o, i) => {
      const p = b.outcomes[i];
      if (!o.ok || !p?.ok) return;
      expect(o.result.trace?.map((t) => t.label)).toEqual(p.result.trace?.map((t) => t.label));
      o.result.trace?.forEach((t, j) => expect(t.score).toBeCloseTo(p.result.trace?.[j]?.score as number, 4));
    });
  });

  it('caps an image at its deadline the same way on both paths', async () => {
    const routing: RoutingRequest = { budget: { fraction: 1 }, deadlineMs: 1e-3 };
    const a = await viaGraph.classify(pngs.slice(0, 8), { routing, key: 0 });
    const b = await viaStages.classify(pngs.slice(0, 8), { routing, key: 0 });
    expect(exitsAndLabels(a)).toEqual(exitsAndLabels(b));
    // A deadline already past leaves every image at exit 1, flagged.
    expect(
      a.outcomes.every((o) => o.ok && o.result.exit === 1 && (o.result.stoppedBy === 'deadline' || o.result.stoppedBy === 'confidence')),
    ).toBe(true);
    expect(a.outcomes.some((o) => o.ok && o.result.stoppedBy === 'deadline' && o.result.forced)).toBe(true);
  });
});

describe('the plain mode (engine graph "full")', () => {
  it('runs every image through the network without exits at the full cost, and needs budget 1', async () => {
    const full = await loadModel(RESNET_BUNDLE, { budget: { fraction: 1 } }, { engine: { intraOpThreads: 1, graph: 'full' } });
    try {
      const c = createClassifier(full, { batching: { maxBatch: 16, maxWaitMs: 0, maxQueue: 64 }, limitInputPixels: 1e6 });
      const a = await c.classify(await images(RESNET_BUNDLE).then((x) => x.slice(0, 6)), { routing: {} });
      expect(a.outcomes.every((o) => o.ok && o.result.exit === o.result.exits && o.result.costFraction === 1)).toBe(true);
    } finally {
      await full.dispose();
    }
    await expect(
      loadModel(RESNET_BUNDLE, { budget: { fraction: 0.5 } }, { engine: { intraOpThreads: 1, graph: 'full' } }),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });
});

describe('the one graph and the strict ledger', () => {
  let model: LoadedModel;
  let classifier: Classifier;
  let reports: Array<{ path: string; reserved: number; spent: number }>;
  let graphCalls: number;
  let pngs: Uint8Array[];
  beforeAll(async () => {
    pngs = await images(RESNET_BUNDLE);
    model = await loadModel(
      RESNET_BUNDLE,
      { budget: { fraction: 0.5 }, ledger: true, profile: true, profileBatch: 8 },
      { engine: { intraOpThreads: 1, graph: 'auto' } },
    );
    const graph = model.engine.earlyExit;
    if (!graph) throw new Error('the ResNet bundle ships early-exit.onnx');
    const run = graph.run.bind(graph);
    graphCalls = 0;
    // Counts every call, kept or not: compute the ledger never sees would show here and not in the reports.
    (graph as { run: typeof run }).run = (...args) => {
      graphCalls++;
      return run(...args);
    };
    reports = [];
    classifier = createClassifier(model, {
      batching: { maxBatch: 64, maxWaitMs: 0, maxQueue: 256 },
      limitInputPixels: 1e6,
      onBatch: (_r, run) => run && reports.push({ path: run.path, reserved: run.reserved, spent: run.spent }),
    });
  });
  afterAll(async () => model?.dispose());

  it('never runs the graph on a pool that cannot pay every row to its cap (no unseen compute), and runs it once caps make the pool enough', async () => {
    // A fresh ledger has no credit: 48 rows reserve 48 x B, less than 48 x full. Routed at 0.2 they save
    // credit, which the next batch borrows: more than it likely spends, still short of 48 x full.
    await classifier.classify(pngs, { routing: { budget: { fraction: 0.2 } }, key: 0 });
    await classifier.classify(pngs, { routing: { budget: { fraction: 0.5 } }, key: 0 });
    expect(reports[1]!.reserved).toBeGreaterThan(pngs.length * 0.5 * model.costs.full);
    expect(reports[1]!.reserved).toBeLessThan(pngs.length * model.costs.full);
    expect(graphCalls).toBe(0);
    expect(reports.map((r) => r.path)).toEqual(['stages', 'stages']);
    for (const r of reports) expect(r.spent).toBeLessThanOrEqual(r.reserved);
    // A deadline already past caps every row at exit 1: 48 x cost[exit 1] fits the pool, so the graph runs.
    reports.length = 0;
    await classifier.classify(pngs, { routing: { budget: { fraction: 0.5 }, deadlineMs: 1e-3 }, key: 0 });
    expect(graphCalls).toBe(1);
    expect(reports.map((r) => r.path)).toEqual(['graph']);
  });
});

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
import type { EarlyExitGraph } from '../../src/engine';
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
    // The learned score reads the exit history (agreement, streak, earlier margins): the graph carries it.
    ['the learned score at 0.3', { budget: { fraction: 0.3 }, score: 'learned' }],
    ['the learned score at 0.4', { budget: { fraction: 0.4 }, score: 'learned' }],
    ['the accuracy-target rule', { accuracyTarget: 0.99 }],
    ['a certified agreement', { guarantee: { agreement: 0.99, delta: 0.1 } }],
  ])('gives identical exits, labels and stop reasons for %s', async (_what, routing) => {
    runs.length = 0;
    const a = await viaGraph.classify(pngs, { routing, key: 0, trace: true });
    const b = await viaStages.classify(pngs, { routing, key: 0, trace: true });
    expect(runs).toEqual(['graph']);
    expect(exitsAndLabels(a)).toEqual(exitsAndLabels(b));
    // Traces agree too: the score at every exit passed. The two paths' float32 logits differ in their last bits
    // (other fused kernels); the learned score's logarithms of small margins move ~1e-5 with them.
    const digits = routing.score === 'learned' ? 3 : 4;
    a.outcomes.forEach((o, i) => {
      const p = b.outcomes[i];
      if (!o.ok || !p?.ok) return;
      expect(o.result.trace?.map((t) => t.label)).toEqual(p.result.trace?.map((t) => t.label));
      o.result.trace?.forEach((t, j) => expect(t.score).toBeCloseTo(p.result.trace?.[j]?.score as number, digits));
    });
  });

  it.each<[string, RoutingRequest]>([
    ['the margin', { budget: { fraction: 1 }, deadlineMs: 1e-3 }],
    ['the learned score', { budget: { fraction: 1 }, deadlineMs: 1e-3, score: 'learned' }],
  ])('caps an image at its deadline the same way on both paths, by %s', async (_what, routing) => {
    runs.length = 0;
    const a = await viaGraph.classify(pngs.slice(0, 8), { routing, key: 0 });
    const b = await viaStages.classify(pngs.slice(0, 8), { routing, key: 0 });
    expect(runs).toEqual(['graph']);
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

describe.each([
  ['resnet18-fmnist', RESNET_BUNDLE],
  ['convnext-fmnist', CONVNEXT_BUNDLE],
])('the one graph and the strict ledger on %s', (_name, dir) => {
  interface Side {
    model: LoadedModel;
    classifier: Classifier;
    reports: Array<{ path: string; reserved: number; spent: number; forced: number }>;
    graphCalls: number;
  }
  let pngs: Uint8Array[];
  let graph: Side;
  let chain: Side;
  const open = async (engineGraph: 'auto' | 'stages'): Promise<Side> => {
    const model = await loadModel(
      dir,
      { budget: { fraction: 0.5 }, ledger: true, profile: true, profileBatch: 8 },
      { engine: { intraOpThreads: 1, graph: engineGraph } },
    );
    const side: Side = { model, reports: [], graphCalls: 0, classifier: undefined as unknown as Classifier };
    const ee = model.engine.earlyExit;
    if (ee) {
      const run = ee.run.bind(ee);
      // Counts every call, kept or not: compute the ledger never sees would show here and not in the reports.
      (ee as { run: typeof run }).run = (...args) => {
        side.graphCalls++;
        return run(...args);
      };
    }
    side.classifier = createClassifier(model, {
      batching: { maxBatch: 64, maxWaitMs: 0, maxQueue: 256 },
      limitInputPixels: 1e6,
      onBatch: (_r, run) =>
        run && side.reports.push({ path: run.path, reserved: run.reserved, spent: run.spent, forced: run.ledgerForced }),
    });
    return side;
  };
  beforeAll(async () => {
    pngs = await images(dir);
    [graph, chain] = await Promise.all([open('auto'), open('stages')]);
  });
  afterAll(async () => Promise.all([graph?.model.dispose(), chain?.model.dispose()]));

  it('grants steps in the graph exactly as the chain does where the ledger binds: same exits, labels and stop reasons, same spending', async () => {
    expect(graph.model.engine.earlyExit?.grants).toBe(true);
    // A fresh ledger has no credit: 48 rows reserve 48 x B, and at 0.5 these hard variants want more, so
    // the grant binds. Routed at 0.2 they save credit that the next batches borrow, and spend.
    for (const fraction of [0.5, 0.2, 0.5, 0.5, 0.3]) {
      const request = { routing: { budget: { fraction } }, key: 0, trace: false };
      const a = await graph.classifier.classify(pngs, request);
      const b = await chain.classifier.classify(pngs, request);
      expect(exitsAndLabels(a)).toEqual(exitsAndLabels(b));
    }
    expect(graph.reports.map((r) => r.path)).toEqual(['graph', 'graph', 'graph', 'graph', 'graph']);
    expect(graph.graphCalls).toBe(5);
    expect(chain.reports.map((r) => r.path)).toEqual(['stages', 'stages', 'stages', 'stages', 'stages']);
    expect(graph.reports.map((r) => [r.reserved, r.spent, r.forced])).toEqual(chain.reports.map((r) => [r.reserved, r.spent, r.forced]));
    // The ledger did bind, and the batches kept within what they reserved.
    expect(graph.reports.reduce((a, r) => a + r.forced, 0)).toBeGreaterThan(0);
    for (const r of graph.reports) expect(r.spent).toBeLessThanOrEqual(r.reserved);
  });

  it('grants steps by the learned score in the graph exactly as the chain does: same exits, labels, stop reasons and spending', async () => {
    graph.reports.length = 0;
    chain.reports.length = 0;
    // A margin batch at 0.5 spends the pool down (whatever the tests before left), so that the learned batches' grant
    // binds. At 0.45 and below both bundles choose the learned rule (ResNet's falls back to EERO at 0.5).
    const asked = [
      ['margin', 0.5],
      ['learned', 0.45],
      ['learned', 0.45],
      ['learned', 0.2],
      ['learned', 0.45],
    ] as const;
    for (const [score, fraction] of asked) {
      const request = { routing: { budget: { fraction }, score }, key: 0, trace: false };
      const a = await graph.classifier.classify(pngs, request);
      const b = await chain.classifier.classify(pngs, request);
      expect(exitsAndLabels(a)).toEqual(exitsAndLabels(b));
    }
    expect(graph.reports.map((r) => r.path)).toEqual(asked.map(() => 'graph'));
    expect(graph.reports.map((r) => [r.reserved, r.spent, r.forced])).toEqual(chain.reports.map((r) => [r.reserved, r.spent, r.forced]));
    expect(graph.reports.slice(1).reduce((a, r) => a + r.forced, 0)).toBeGreaterThan(0);
  });

  it('runs a graph that cannot take the grant only when the pool pays every row to its cap', async () => {
    // An early-exit.onnx composed before the grant (no credit and steps inputs), as a bundle may ship it.
    const engine = graph.model.engine as { earlyExit: EarlyExitGraph | undefined };
    const ee = engine.earlyExit as EarlyExitGraph;
    engine.earlyExit = { spec: ee.spec, grants: false, run: ee.run.bind(ee), release: ee.release.bind(ee) };
    try {
      graph.reports.length = 0;
      graph.graphCalls = 0;
      // These hard images at 0.5 spend the pool down: the next batch's pool cannot pay 48 rows to the end.
      await graph.classifier.classify(pngs, { routing: { budget: { fraction: 0.5 } }, key: 0 });
      await graph.classifier.classify(pngs, { routing: { budget: { fraction: 0.5 } }, key: 0 });
      expect(graph.reports[1]!.reserved).toBeLessThan(pngs.length * graph.model.costs.full);
      expect(graph.reports[1]!.path).toBe('stages');
      const before = graph.graphCalls;
      // A deadline already past caps every row at exit 1: 48 x cost[exit 1] fits any pool, so the graph runs.
      await graph.classifier.classify(pngs, { routing: { budget: { fraction: 0.5 }, deadlineMs: 1e-3 }, key: 0 });
      expect(graph.graphCalls).toBe(before + 1);
      expect(graph.reports.at(-1)!.path).toBe('graph');
    } finally {
      engine.earlyExit = ee;
    }
  });
});

/** Which engine path a batch takes: measured at load on the real bundle, or given; the answers do not depend on it. */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { profilePaths } from '../../src/engine';
import { createClassifier, loadModel, type LoadedModel } from '../../src/pipeline';
import { RESNET_BUNDLE } from '../support/bundles';

const pngs = (): Uint8Array[] => {
  const dir = path.join(RESNET_BUNDLE, 'fixtures');
  const files = readdirSync(dir).filter((f) => f.endsWith('.png'));
  return Array.from({ length: 48 }, (_, i) => readFileSync(path.join(dir, files[i % files.length] as string)));
};

describe('the path choice on resnet18-fmnist', () => {
  let model: LoadedModel;
  beforeAll(async () => {
    model = await loadModel(RESNET_BUNDLE, { budget: { fraction: 0.5 }, ledger: false }, { engine: { intraOpThreads: 1 } });
  });
  afterAll(async () => model?.dispose());

  it('profiles both paths on a mixed routing at each size and puts the crossover where the graph becomes cheaper', async () => {
    const engine = model.engine;
    const graph = engine.earlyExit!;
    const m = engine.stageCount;
    const calls = { graph: [] as number[], chain: [] as number[] };
    const exitsSeen = new Set<number>();
    // A CPU meter that charges what the calls cost in this made-up machine: the graph 3 units a row below 4 rows and 1 from
    // there, the chain 2 (what really ran is counted; the timing itself is injected, so the test does not hang on the clock).
    let units = 0;
    const runGraph = graph.run.bind(graph);
    const runChain = engine.run.bind(engine);
    const spied = {
      ...engine,
      earlyExit: {
        ...graph,
        run: async (...args: Parameters<typeof graph.run>) => {
          calls.graph.push(args[1]);
          units += (args[1] < 4 ? 3 : 1) * args[1];
          const r = await runGraph(...args);
          r.exits.forEach((e) => exitsSeen.add(e));
          return r;
        },
      },
      run: (async (input, n, onExit, signal) => {
        calls.chain.push(n);
        units += 2 * n;
        return runChain(input, n, onExit, signal);
      }) as typeof engine.run,
    };
    const p = await profilePaths(spied, { sizes: [1, 2, 4], rounds: 2, warmupBatches: 1, cpu: () => units, budgetMs: 1e9 });
    expect(p?.sizes).toEqual([1, 2, 4]);
    expect(p?.graphMs).toEqual([3, 3, 1]);
    expect(p?.chainMs).toEqual([2, 2, 2]);
    expect(p?.graphFrom).toBe(4);
    // A warm-up round at the first size (one batch asked: a whole round), then one untimed and two timed rounds
    // of M batches per path and size, every exit used.
    for (const n of [1, 2, 4]) {
      expect(calls.graph.filter((x) => x === n)).toHaveLength((n === 1 ? 4 : 3) * m);
      expect(calls.chain.filter((x) => x === n)).toHaveLength((n === 1 ? 4 : 3) * m);
    }
    expect(exitsSeen.size).toBe(m);
  });

  it('measures at load up to the largest batch served, on this machine', async () => {
    const measured = await loadModel(
      RESNET_BUNDLE,
      { budget: { fraction: 0.5 }, ledger: false },
      { engine: { intraOpThreads: 1 }, paths: { measureUpTo: 2 } },
    );
    try {
      expect(measured.paths.source).toBe('measured');
      expect(measured.paths.profile?.sizes).toEqual([1, 2]);
      expect(measured.paths.profile?.graphMs.every((ms) => ms > 0)).toBe(true);
      expect([1, 2, 3]).toContain(measured.paths.graphFrom);
    } finally {
      await measured.dispose();
    }
  });

  it('runs a batch below the crossover on the chain and one above it on the graph, with the same answers', async () => {
    const runs: string[] = [];
    const answer = async (graphFrom: number): Promise<Array<[number, number, string, number] | string>> => {
      const given = await loadModel(
        RESNET_BUNDLE,
        { budget: { fraction: 0.5 }, ledger: false },
        { engine: { intraOpThreads: 1 }, paths: { graphFrom } },
      );
      try {
        expect(given.paths).toEqual({ graphFrom, source: 'given' });
        const c = createClassifier(given, {
          batching: { maxBatch: 64, maxWaitMs: 0, maxQueue: 256 },
          limitInputPixels: 1e6,
          onBatch: (_r, run) => runs.push(run?.path ?? '?'),
        });
        const a = await c.classify(pngs(), { routing: {}, key: 0 });
        return a.outcomes.map((o) =>
          o.ok ? [o.result.exit, o.result.classIndex, o.result.stoppedBy, o.result.probability] : o.error.code,
        );
      } finally {
        await given.dispose();
      }
    };
    const chain = await answer(49);
    const graph = await answer(48);
    expect(runs).toEqual(['stages', 'graph']);
    // Probabilities to 6 places: the graph's exit heads average in another order than the stage graphs' (last bits).
    expect(graph.map((r) => (typeof r === 'string' ? r : r.slice(0, 3)))).toEqual(
      chain.map((r) => (typeof r === 'string' ? r : r.slice(0, 3))),
    );
    graph.forEach((r, i) => typeof r !== 'string' && expect(r[3]).toBeCloseTo((chain[i] as [number, number, string, number])[3], 6));
  });
});

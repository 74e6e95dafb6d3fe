import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createBatcher, type BatchedResult, type BatchReport, type Batcher, type BatcherOptions } from '../../src/batching';
import { EeroError } from '../../src/errors';
import { loadModelRuntime, type BudgetChoice, type ModelRuntime, type RowRequest } from '../../src/pipeline';
import { RESNET_BUNDLE } from '../support/bundles';

let runtime: ModelRuntime;
let images: Float32Array[];
let cheapest: number;

beforeAll(async () => {
  runtime = await loadModelRuntime(RESNET_BUNDLE, { engine: { intraOpThreads: 1 } });
  const dir = join(RESNET_BUNDLE, 'fixtures');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.png')).sort();
  images = await Promise.all(
    files.map(async (f) => (await runtime.preprocessor.preprocess(await readFile(join(dir, f)), { limitInputPixels: 1e6 })).data),
  );
  cheapest = (runtime.costs[0] as number) / (runtime.costs[runtime.costs.length - 1] as number);
});
afterAll(() => runtime?.dispose());

function choice(budget: number, ledger = false): BudgetChoice {
  return runtime.budgets.choose({ budget, ledger });
}

function row(i: number, c: BudgetChoice, key = i): { input: Float32Array; request: RowRequest } {
  return { input: images[i % images.length] as Float32Array, request: { choice: c, topk: 3, trace: false, key } };
}

function batcher(options: Partial<BatcherOptions>, reports: BatchReport[] = []): Batcher {
  return createBatcher(runtime, { maxBatch: 32, maxWaitMs: 5, maxQueue: 64, onBatch: (r) => reports.push(r), ...options });
}

async function rejection(p: Promise<unknown>): Promise<EeroError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof EeroError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

function essentials(r: BatchedResult): unknown {
  return { exit: r.exit, label: r.label, forced: r.forced, macs: r.macs, topk: r.topk.map((t) => [t.label, +t.probability.toFixed(5)]) };
}

describe('dynamic batcher on the shipped ResNet bundle', () => {
  test('rows with different budgets share one batch and get the same results as when run alone', async () => {
    const budgets = [choice(1), choice(cheapest), choice(0.5)];
    const reports: BatchReport[] = [];
    const together = batcher({ maxBatch: 32, maxWaitMs: 50 }, reports);
    const n = images.length;
    const batched = await Promise.all(Array.from({ length: n }, (_, i) => together.submit(row(i, budgets[i % 3] as BudgetChoice))));
    expect(reports.map((r) => r.size)).toEqual([n]);
    expect(batched.every((r) => r.timings.batchSize === n)).toBe(true);

    const alone = batcher({ maxBatch: 1, maxWaitMs: 0 });
    const single: BatchedResult[] = [];
    for (let i = 0; i < n; i++) single.push(await alone.submit(row(i, budgets[i % 3] as BudgetChoice)));
    expect(single.every((r) => r.timings.batchSize === 1)).toBe(true);
    expect(batched.map(essentials)).toEqual(single.map(essentials));
    // The budgets really differ: the full budget reaches further on average than the cheapest.
    const meanExit = (k: number): number => {
      const rows = batched.filter((_, i) => i % 3 === k);
      return rows.reduce((s, r) => s + r.exit, 0) / rows.length;
    };
    expect(batched.filter((_, i) => i % 3 === 1).every((r) => r.exit === 1)).toBe(true);
    expect(meanExit(0)).toBeGreaterThan(meanExit(1));
  });

  test('no engine run takes more than maxBatch rows', async () => {
    const reports: BatchReport[] = [];
    const b = batcher({ maxBatch: 4, maxWaitMs: 20 }, reports);
    const c = choice(0.5);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => b.submit(row(i, c))));
    expect(results).toHaveLength(10);
    expect(reports.every((r) => r.size <= 4)).toBe(true);
    expect(reports.reduce((s, r) => s + r.size, 0)).toBe(10);
    expect(reports[0]?.size).toBe(4);
  });

  test('maxWaitMs flushes a lone row that waits for company', async () => {
    const b = batcher({ maxBatch: 32, maxWaitMs: 40 });
    const t0 = performance.now();
    const r = await b.submit(row(0, choice(0.5)));
    expect(r.timings.batchSize).toBe(1);
    expect(r.timings.queueMs).toBeGreaterThanOrEqual(35);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(b.depth).toBe(0);
  });

  test('beyond maxQueue submit refuses at once with OVERLOADED and a retry hint', async () => {
    const b = batcher({ maxBatch: 8, maxQueue: 2, maxWaitMs: 150 });
    const c = choice(0.5);
    const waiting = [b.submit(row(0, c)), b.submit(row(1, c))];
    expect(b.depth).toBe(2);
    const refused = await rejection(b.submit(row(2, c)));
    expect(refused.code).toBe('OVERLOADED');
    expect(refused.httpStatus).toBe(503);
    expect(refused.details).toMatchObject({ maxQueue: 2, retryAfterSeconds: 1 });
    expect(() => b.checkCapacity(1)).toThrow(EeroError);
    const done = await Promise.all(waiting);
    expect(done.map((r) => r.timings.batchSize)).toEqual([2, 2]);
    expect(() => b.checkCapacity(2)).not.toThrow();
  });

  test('a row whose request went away before its batch started is dropped before the engine and the ledger', async () => {
    const reports: BatchReport[] = [];
    const b = batcher({ maxBatch: 8, maxWaitMs: 60 }, reports);
    const c = runtime.budgets.choose({ budget: 0.37, ledger: true });
    const before = c.ledger?.snapshot().images;
    const gone = new AbortController();
    const dropped = b.submit(row(0, c), gone.signal);
    const kept = b.submit(row(1, c));
    gone.abort();
    expect((await rejection(dropped)).code).toBe('ABORTED');
    const r = await kept;
    expect(r.timings.batchSize).toBe(1);
    expect(reports.map((x) => x.size)).toEqual([1]);
    expect(c.ledger?.snapshot().images).toBe((before ?? 0) + 1);
    expect(c.ledger?.snapshot().inFlight).toBe(0);
    // An already aborted signal is refused without queueing.
    expect((await rejection(b.submit(row(2, c), AbortSignal.abort()))).code).toBe('ABORTED');
    expect(b.depth).toBe(0);
  });

  test('drain runs the queued rows at once, then refuses new ones with SHUTTING_DOWN', async () => {
    const b = batcher({ maxBatch: 32, maxWaitMs: 30_000 });
    const c = choice(0.5);
    const queued = [0, 1, 2].map((i) => b.submit(row(i, c)));
    expect(b.depth).toBe(3);
    const t0 = performance.now();
    await b.drain();
    expect(performance.now() - t0).toBeLessThan(5000);
    expect((await Promise.all(queued)).map((r) => r.timings.batchSize)).toEqual([3, 3, 3]);
    expect(b.depth).toBe(0);
    expect(b.running).toBe(0);
    expect((await rejection(b.submit(row(3, c)))).code).toBe('SHUTTING_DOWN');
    await b.drain(); // idempotent, resolves when idle
  });

  test('a row of the wrong size is refused without disturbing the queue', async () => {
    const b = batcher({});
    const bad = { input: new Float32Array(3), request: row(0, choice(0.5)).request };
    expect((await rejection(b.submit(bad))).code).toBe('INTERNAL');
    expect(b.depth).toBe(0);
  });
});

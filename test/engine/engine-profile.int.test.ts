/** Each stage's time at a few batch sizes, measured on the shipped ResNet bundle (shapes and order only: no timing judged). */
import { loadBundle } from '../../src/config';
import { createEngine, profileBatchTimes, type Engine } from '../../src/engine';
import { BUNDLE_DIR, TEST_ENGINE_OPTIONS } from './shipped-bundle';

let engine: Engine;

beforeAll(async () => {
  engine = await createEngine(await loadBundle(BUNDLE_DIR), TEST_ENGINE_OPTIONS);
});
afterAll(() => engine?.dispose());

describe('profileBatchTimes on a real engine', () => {
  test('one time per stage at each size on the chain and on the one graph, sorted sizes, never less time for more rows from 2 rows on', async () => {
    const { stages: t, graph } = await profileBatchTimes(engine, [8, 1, 2, 2], { warmupRuns: 1, runs: 3 });
    expect(t.sizes).toEqual([1, 2, 8]);
    expect(t.stageMs).toHaveLength(3);
    for (const ms of t.stageMs) {
      expect(ms).toHaveLength(engine.stageCount);
      for (const v of ms) expect(v).toBeGreaterThan(0);
    }
    for (let s = 0; s < engine.stageCount; s++) {
      expect(t.stageMs[2]?.[s]).toBeGreaterThanOrEqual(t.stageMs[1]?.[s] as number);
    }
    expect(t.overheadMs).toHaveLength(3);
    expect(t.overheadMs[2]).toBeGreaterThanOrEqual(t.overheadMs[1] as number);
    expect(engine.earlyExit).toBeDefined();
    expect(graph?.sizes).toEqual([1, 2, 8]);
    for (const ms of graph?.stageMs ?? []) expect(ms[0]).toBeGreaterThan(0);
    expect(graph?.stageMs[2]?.[0]).toBeGreaterThanOrEqual(graph?.stageMs[1]?.[0] as number);
  });

  test('bad sizes or run counts are a BAD_PARAMETER error', async () => {
    await expect(profileBatchTimes(engine, [0])).rejects.toMatchObject({ code: 'BAD_PARAMETER' });
    await expect(profileBatchTimes(engine, [])).rejects.toMatchObject({ code: 'BAD_PARAMETER' });
    await expect(profileBatchTimes(engine, [1], { runs: 0 })).rejects.toMatchObject({ code: 'BAD_PARAMETER' });
  });
});

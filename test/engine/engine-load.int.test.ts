/** Engine set-up that runs the whole network: the provider's warm-up and the per-stage profile. */
import { loadBundle } from '../../src/config';
import { createEngine, profileStages, type Engine } from '../../src/engine';
import { BUNDLE_DIR, TEST_ENGINE_OPTIONS } from './shipped-bundle';

describe('engine set-up, running the network', () => {
  test('cuda: used when it starts, else cpu with exactly one log line', async () => {
    const lines: string[] = [];
    const bundle = await loadBundle(BUNDLE_DIR);
    const engine = await createEngine(
      bundle,
      { ...TEST_ENGINE_OPTIONS, executionProvider: 'cuda' },
      { logger: { warn: (line) => lines.push(line) } },
    );
    try {
      if (engine.executionProvider === 'cpu') {
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/cuda.*using cpu/i);
      } else {
        expect(lines).toHaveLength(0);
      }
      await engine.warmup([1, 2]);
    } finally {
      await engine.dispose();
    }
  });

  describe('profileStages', () => {
    let engine: Engine;
    beforeAll(async () => {
      engine = await createEngine(await loadBundle(BUNDLE_DIR), TEST_ENGINE_OPTIONS);
    });
    afterAll(() => engine?.dispose());

    test('positive seconds per stage, cumulative per exit', async () => {
      const p = await profileStages(engine, 4, { warmupRuns: 1, runs: 2 });
      expect(p.stageSeconds).toHaveLength(engine.stageCount);
      expect(p.stageSeconds.every((s) => s > 0)).toBe(true);
      p.exitSeconds.forEach((s, l) => {
        const sum = p.stageSeconds.slice(0, l + 1).reduce((a, b) => a + b, 0);
        expect(s).toBeCloseTo(sum, 12);
      });
    });

    test("seconds per image: the timed runs' milliseconds / 1000 / runs / batch, warm-up runs left out", async () => {
      // The engine's own stage times replaced by known ones (stage s: s + 1 ms on the first run, 3 x that after):
      // the arithmetic is checked exactly, whatever this machine's clock says.
      let calls = 0;
      const timed: Engine = {
        ...engine,
        run: async (...args) => {
          const result = await engine.run(...args);
          const factor = calls++ === 0 ? 1 : 3;
          return { ...result, stages: result.stages.map((s) => ({ ...s, ms: factor * (s.stage + 1) })) };
        },
      };
      const p = await profileStages(timed, 4, { warmupRuns: 1, runs: 2 });
      expect(calls).toBe(3);
      expect(p.stageSeconds).toEqual(Array.from({ length: engine.stageCount }, (_, s) => (3 * (s + 1)) / 1000 / 4));
    });
  });
});

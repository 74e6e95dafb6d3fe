import { resolve } from 'node:path';
import { loadBundle } from '../../src/config';
import { createEngine, type OnExit } from '../../src/engine';
import { TEST_ENGINE_OPTIONS, loadFixtures, maxAbsDiff } from './shipped-bundle';

// Every shipped bundle's exits match torch's logits on its fixture images (FORMAT.md: 1e-3).
describe.each(['resnet18-fmnist', 'convnext-fmnist'])('%s', (name) => {
  test('stage-wise logits at every exit match torch (1e-3)', async () => {
    const bundle = await loadBundle(resolve(__dirname, '../../models', name));
    const engine = await createEngine(bundle, TEST_ENGINE_OPTIONS);
    try {
      const fixtures = await loadFixtures(bundle);
      const k = engine.classes;
      let worst = 0;
      const onExit: OnExit = (exit, logits, rows) => {
        rows.forEach((row, i) => {
          const want = fixtures.logits[row]![exit]!;
          worst = Math.max(worst, maxAbsDiff(logits.subarray(i * k, (i + 1) * k), want));
        });
        return new Uint8Array(rows.length);
      };
      const result = await engine.run(fixtures.input, fixtures.files.length, onExit);
      expect(result.stages.every((s) => s.rows === fixtures.files.length)).toBe(true);
      expect(worst).toBeLessThan(1e-3);
    } finally {
      await engine.dispose();
    }
  });
});

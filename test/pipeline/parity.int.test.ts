import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadBundle } from '../../src/config';
import { createEngine, type Engine } from '../../src/engine';
import { createPreprocessor } from '../../src/preprocess';
import { RESNET_BUNDLE, CONVNEXT_BUNDLE } from '../support/bundles';

interface Fixtures {
  files: string[];
  labels: number[];
  logits: number[][][];
}

describe.each([
  ['resnet18-fmnist', RESNET_BUNDLE],
  ['convnext-fmnist', CONVNEXT_BUNDLE],
])('sharp preprocessing + onnxruntime stages reproduce torch on %s', (_name, dir) => {
  let engine: Engine;
  afterAll(async () => engine?.dispose());

  it('matches torch logits at every exit within 1e-3 on the bundle fixtures', async () => {
    const bundle = await loadBundle(dir);
    const fx = JSON.parse(readFileSync(path.join(dir, 'fixtures', 'logits.json'), 'utf8')) as Fixtures;
    const pre = createPreprocessor(bundle.manifest.input);
    const n = fx.files.length;
    const input = new Float32Array(n * pre.imageLength);
    await Promise.all(
      fx.files.map((f, i) =>
        pre.preprocessInto(readFileSync(path.join(dir, 'fixtures', f)), input, i * pre.imageLength, { limitInputPixels: 1e6 }),
      ),
    );
    engine = await createEngine(bundle, { intraOpThreads: 1 });
    const k = bundle.manifest.labels.length;
    let worst = 0;
    await engine.run(input, n, (exit, logits, rows) => {
      rows.forEach((r, j) => {
        const want = fx.logits[r]?.[exit] as number[];
        for (let c = 0; c < k; c++) worst = Math.max(worst, Math.abs((logits[j * k + c] as number) - (want[c] as number)));
      });
      return new Uint8Array(rows.length); // nobody leaves: every exit is compared
    });
    expect(n).toBeGreaterThanOrEqual(10);
    expect(worst).toBeLessThan(1e-3);
  });
});

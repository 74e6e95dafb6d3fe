import { loadBundle } from '../../src/config';
import { createEngine } from '../../src/engine';
import { RESNET_BUNDLE } from '../support/bundles';

describe('engine graph optimisation level', () => {
  it('gives the same logits at every exit with and without the blocked conv layout', async () => {
    const bundle = await loadBundle(RESNET_BUNDLE);
    const n = 4;
    const input = new Float32Array(n * 32 * 32).map((_, i) => Math.sin(i / 7));
    const logitsOf = async (level: 'all' | 'extended'): Promise<Float32Array[]> => {
      const engine = await createEngine(bundle, { graphOptimization: level, intraOpThreads: 1 });
      const out: Float32Array[] = [];
      try {
        await engine.run(input, n, (_exit, logits, rows) => {
          out.push(Float32Array.from(logits));
          return new Uint8Array(rows.length);
        });
      } finally {
        await engine.dispose();
      }
      return out;
    };
    const [a, b] = [await logitsOf('all'), await logitsOf('extended')];
    expect(a).toHaveLength(bundle.manifest.exits.length);
    a.forEach((exitLogits, l) => exitLogits.forEach((v, i) => expect(Math.abs(v - (b[l]![i] as number))).toBeLessThan(1e-4)));
  });
});

/**
 * Stage-wise engine + router (ledger off) against the same network as one
 * ONNX graph, on the real Fashion-MNIST test images (already tensors:
 * preprocessing is not part of this measurement), interleaved.
 */
import { createEngine, type Engine } from '../src/engine';
import { loadBundle } from '../src/config';
import { loadModel, runDirect, type LoadedModel } from '../src/pipeline';
import { fmnistTensor } from './support/fmnist-tensor';
import { interleave, speedup, type Timed, type Variant } from './support/interleave';
import { median } from './support/format';
import { referenceBundle } from './support/synthetic-bundle';

export const SPEED_BUDGETS = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

export interface SpeedRow {
  batch: number;
  /** 'full model (one graph)' or a budget fraction. */
  budget: number | undefined;
  imagesPerSecond: number;
  /** Realised average MACs / full MACs (1 for the one graph). */
  costFraction: number;
  /** Median over repetitions of time(one graph) / time(this). */
  speedup: number;
  /** full cost / realised cost. */
  ideal: number;
}

export interface EngineSpeed {
  name: string;
  fullMacs: number;
  images: number;
  reps: number;
  threads: number;
  rows: SpeedRow[];
  skipped: string[];
}

/** One pass over `n` images in batches of `batch`; returns realised MACs per image. */
async function stagedPass(model: LoadedModel, input: Float32Array, n: number, batch: number, budget: number): Promise<number> {
  const choice = model.routing.choose({ budget: { fraction: budget } });
  const size = model.engine.imageSize;
  let macs = 0;
  for (let i = 0; i < n; i += batch) {
    const b = Math.min(batch, n - i);
    const results = await runDirect(model, input.subarray(i * size, (i + b) * size), choice, i);
    for (const r of results) macs += r.macs;
  }
  return macs / n;
}

async function referencePass(engine: Engine, input: Float32Array, n: number, batch: number, fullMacs: number): Promise<number> {
  const size = engine.imageSize;
  for (let i = 0; i < n; i += batch) {
    const b = Math.min(batch, n - i);
    await engine.run(input.subarray(i * size, (i + b) * size), b, () => undefined);
  }
  return fullMacs;
}

export async function engineSpeed(dir: string, o: { quick: boolean; threads: number; batches: number[] }): Promise<EngineSpeed> {
  const runtime = await loadModel(dir, { budget: { fraction: 1 }, ledger: false }, { engine: { intraOpThreads: o.threads } });
  const reference = await createEngine(referenceBundle(await loadBundle(dir)), { intraOpThreads: o.threads });
  try {
    const fullMacs = runtime.costs.fullMacs;
    const cheapest = (runtime.costs.macs[0] as number) / fullMacs;
    const budgets = SPEED_BUDGETS.filter((b) => b >= cheapest);
    const skipped = SPEED_BUDGETS.filter((b) => b < cheapest).map((b) => `budget ${b}: below the cheapest exit`);
    const reps = o.quick ? 1 : 3;
    const data = fmnistTensor(runtime.manifest.input, o.quick ? 64 : 2048);
    const rows: SpeedRow[] = [];
    for (const batch of o.batches) {
      // Batch 1 is slow per image: fewer images keep the section within its time.
      const n = Math.min(data.images, o.quick ? 16 * Math.min(batch, 4) : batch === 1 ? 384 : 2048);
      const variants: Variant<number>[] = [
        { name: 'ref', run: () => referencePass(reference, data.input, n, batch, fullMacs) },
        ...budgets.map((b) => ({ name: String(b), run: () => stagedPass(runtime, data.input, n, batch, b) })),
      ];
      for (const v of variants) await v.run(); // warm-up: sessions, allocator, thread pools
      const timed = await interleave(variants, reps);
      const ref = timed.get('ref') as Timed<number>;
      for (const v of variants) {
        const t = timed.get(v.name) as Timed<number>;
        const fraction = t.last / fullMacs;
        rows.push({
          batch,
          budget: v.name === 'ref' ? undefined : Number(v.name),
          imagesPerSecond: n / median(t.seconds),
          costFraction: fraction,
          speedup: speedup(ref, t),
          ideal: 1 / fraction,
        });
      }
      process.stderr.write(`speed: ${runtime.name} batch ${batch}: ${n} images x ${variants.length} variants x ${reps} reps\n`);
    }
    return { name: runtime.name, fullMacs, images: data.images, reps, threads: o.threads, rows, skipped };
  } finally {
    await Promise.all([runtime.dispose(), reference.dispose()]);
  }
}

/**
 * Deadlines end to end on the real ResNet bundle (real sessions, real routing) with a simulated
 * clock: the engine runs for real, and the clock moves by what a made-up machine takes for what it
 * ran (every stage 0.5 + 0.125 n ms over n rows; sums of powers of two, so the arithmetic is exact).
 * Thresholds pinned at +infinity: no row leaves by confidence, each goes as deep as its cap.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createBatcher } from '../../src/batching';
import { stageMsAt, type BatchTimes, type Engine } from '../../src/engine';
import { createClassifier, loadModel, type ImageResult, type LoadedModel } from '../../src/pipeline';
import type { RowMeta } from '../../src/pipeline/row-meta';
import { createBatchRunner } from '../../src/pipeline/run-batch';
import { RESNET_BUNDLE } from '../support/bundles';

const SIZES = [1, 2, 8, 32];
const STAGES = 8;
const TIMES: BatchTimes = {
  sizes: SIZES,
  stageMs: SIZES.map((n) => new Array<number>(STAGES).fill(0.5 + 0.125 * n)),
  overheadMs: SIZES.map(() => 0),
};
const NEVER = new Array<number>(STAGES).fill(Infinity);

let real: LoadedModel;
let model: LoadedModel;
const clock = { now: 0 };
let pngs: Buffer[];

/** The real engine; the clock moves by the made-up machine's time for the rows each stage ran. */
function simulated(engine: Engine): Engine {
  return {
    ...engine,
    run: async (...args) => {
      const r = await engine.run(...args);
      clock.now += r.stages.reduce((ms, s) => ms + stageMsAt(TIMES, s.stage, s.rows), 0);
      return r;
    },
  };
}

beforeAll(async () => {
  real = await loadModel(RESNET_BUNDLE, { ledger: false }, { engine: { graph: 'stages', intraOpThreads: 1 } });
  model = { ...real, engine: simulated(real.engine), costs: { ...real.costs, batchTimes: { stages: TIMES, graph: undefined } } };
  const fixtures = path.join(RESNET_BUNDLE, 'fixtures');
  pngs = readdirSync(fixtures)
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((f) => readFileSync(path.join(fixtures, f)));
});
afterAll(() => real?.dispose());

interface Answered {
  result: ImageResult;
  at: number;
}

describe('deadlines on the real bundle, simulated clock', () => {
  test('a burst of 40 rows due in 30 ms: each batch at the deepest exit that ends in time, every row answered by its deadline', async () => {
    clock.now = 0;
    const { imageLength } = model.preprocessor;
    const input = new Float32Array(40 * imageLength);
    for (let i = 0; i < 40; i++) {
      await model.preprocessor.preprocessInto(pngs[i % pngs.length] as Buffer, input, i * imageLength, { limitInputPixels: 1e6 });
    }
    const choice = model.routing.choose({ thresholds: NEVER, deadlineMs: 30 });
    const runner = createBatchRunner(model, { clock: () => clock.now });
    const batcher = createBatcher<RowMeta, ImageResult>({
      imageLength,
      maxBatch: 32,
      maxWaitMs: 0,
      maxQueue: 64,
      run: runner,
      now: () => clock.now,
    });
    const admission = batcher.admit(40);
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        admission
          .submit(
            input.subarray(i * imageLength, (i + 1) * imageLength),
            { choice, key: i, topk: 1, trace: false, arrivedAt: 0 },
            undefined,
            30,
          )
          .then((b): Answered => ({ result: b.result, at: clock.now })),
      ),
    );
    // First 32 rows, with 8 waiting: they must leave the 8 time for exit 1 (1.5 ms + the 2 ms margin by 30):
    // exit 5 ends at 5 x 4.5 = 22.5 ms (exit 6, 27 ms, would not). The 8 then have 7.5 ms: exit 3 ends at 27 ms (exit 4 at 28.5, inside the margin).
    expect(answers.slice(0, 32).map((a) => [a.result.exit, a.at])).toEqual(new Array(32).fill([5, 22.5]));
    expect(answers.slice(32).map((a) => [a.result.exit, a.at])).toEqual(new Array(8).fill([3, 27]));
    expect(answers.every((a) => a.result.stoppedBy === 'deadline' && a.result.forced)).toBe(true);
    expect(answers.every((a) => a.at <= 30)).toBe(true);
  });

  test('the classifier: a row that can reach the last exit in time does; one too late even for exit 1 is answered there, counted missed', async () => {
    const classifier = createClassifier(model, {
      batching: { maxBatch: 32, maxWaitMs: 0, maxQueue: 64 },
      limitInputPixels: 1e6,
      clock: () => clock.now,
    });
    const ask = async (deadlineMs?: number) => {
      const answer = await classifier.classify([pngs[0] as Buffer], {
        routing: { thresholds: NEVER, ...(deadlineMs ? { deadlineMs } : {}) },
      });
      const o = answer.outcomes[0];
      if (!o?.ok) throw new Error('expected an answer');
      return { exit: o.result.exit, stoppedBy: o.result.stoppedBy, deadline: o.timings.deadline };
    };
    // One row through all 8 stages: 8 x 0.625 = 5 ms.
    expect(await ask(7)).toEqual({ exit: 8, stoppedBy: 'last-exit', deadline: 'met' });
    expect(await ask(6.9)).toEqual({ exit: 7, stoppedBy: 'deadline', deadline: 'met' });
    // Exit 1 alone takes 0.625 ms.
    expect(await ask(0.5)).toEqual({ exit: 1, stoppedBy: 'deadline', deadline: 'missed' });
    expect(await ask()).toEqual({ exit: 8, stoppedBy: 'last-exit', deadline: undefined });
    await classifier.drain();
  });
});

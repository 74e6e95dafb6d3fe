import { loadBundle, type Bundle } from '../../src/config';
import { createEngine, type Engine, type OnExit } from '../../src/engine';
import { EeroError } from '../../src/errors';
import { BUNDLE_DIR, TEST_ENGINE_OPTIONS, loadFixtures, maxAbsDiff, referenceLogits, type Fixtures } from './shipped-bundle';

let bundle: Bundle;
let engine: Engine;
let fixtures: Fixtures;
let reference: Float32Array[];
let batch: number;

beforeAll(async () => {
  bundle = await loadBundle(BUNDLE_DIR);
  engine = await createEngine(bundle, TEST_ENGINE_OPTIONS);
  fixtures = await loadFixtures(bundle);
  batch = fixtures.files.length;
  reference = await referenceLogits(bundle, fixtures.input, batch);
});
afterAll(() => engine?.dispose());

/** Records the logits every exit reported for every row: seen[exit][row] = K floats. */
function recorder(leave: (exit: number, row: number) => boolean) {
  const seen: Array<Map<number, Float32Array>> = [];
  const onExit: OnExit = (exit, logits, rows) => {
    const k = engine.classes;
    seen[exit] = new Map(Array.from(rows, (row, i) => [row, logits.slice(i * k, (i + 1) * k)]));
    return Uint8Array.from(rows, (row) => (leave(exit, row) ? 1 : 0));
  };
  return { seen, onExit };
}

const never = (): boolean => false;
const refRow = (exit: number, row: number): Float32Array => reference[exit]!.subarray(row * engine.classes, (row + 1) * engine.classes);

describe('engine.run on the shipped bundle', () => {
  test('describes the bundle', () => {
    expect(engine.stageCount).toBe(bundle.manifest.stages.length);
    expect(engine.classes).toBe(bundle.manifest.labels.length);
    expect(engine.inputShape).toEqual([1, 32, 32]);
    expect(engine.executionProvider).toBe('cpu');
  });

  test('every exit matches torch on the fixtures (1e-3)', async () => {
    const { seen, onExit } = recorder(never);
    await engine.run(fixtures.input, batch, onExit);
    for (let l = 0; l < engine.stageCount; l++) {
      for (let i = 0; i < batch; i++) {
        expect(maxAbsDiff(seen[l]!.get(i)!, fixtures.logits[i]![l]!)).toBeLessThan(1e-3);
      }
    }
  });

  test('onExit always false: every row leaves at the last exit with the full-batch reference logits', async () => {
    const { seen, onExit } = recorder(never);
    const result = await engine.run(fixtures.input, batch, onExit);
    const last = engine.stageCount - 1;
    expect(Array.from(result.exits)).toEqual(new Array(batch).fill(last));
    expect(maxAbsDiff(result.logits, reference[last]!)).toBeLessThan(1e-5);
    // Every stage ran on the whole batch and reported every row.
    expect(result.stages.map((s) => s.rows)).toEqual(new Array(engine.stageCount).fill(batch));
    for (let l = 0; l < engine.stageCount; l++) {
      expect(seen[l]!.size).toBe(batch);
      for (let i = 0; i < batch; i++) expect(maxAbsDiff(seen[l]!.get(i)!, refRow(l, i))).toBeLessThan(1e-5);
    }
  });

  test('batch invariance: each row run alone gives the batch logits at every exit (1e-4)', async () => {
    const size = engine.imageSize;
    for (let i = 0; i < batch; i++) {
      const { seen, onExit } = recorder(never);
      await engine.run(fixtures.input.slice(i * size, (i + 1) * size), 1, onExit);
      for (let l = 0; l < engine.stageCount; l++) {
        expect(maxAbsDiff(seen[l]!.get(0)!, refRow(l, i))).toBeLessThan(1e-4);
      }
    }
  });

  test('survivors only: leaving rows stop, continuing rows keep the same logits (1e-4)', async () => {
    // Row r leaves at exit (r mod M); some stages lose no row (pass-through) when M > batch.
    const m = engine.stageCount;
    const leaveAt = (row: number): number => (row * 3) % m;
    const { seen, onExit } = recorder((exit, row) => exit === leaveAt(row));
    const result = await engine.run(fixtures.input, batch, onExit);
    for (let i = 0; i < batch; i++) {
      expect(result.exits[i]).toBe(leaveAt(i));
      expect(maxAbsDiff(result.logits.subarray(i * result.classes, (i + 1) * result.classes), refRow(leaveAt(i), i))).toBeLessThan(1e-4);
    }
    for (let l = 0; l < m; l++) {
      const alive = [...Array(batch).keys()].filter((r) => leaveAt(r) >= l);
      expect([...(seen[l]?.keys() ?? [])]).toEqual(alive); // only survivors, in original order
      expect(result.stages[l]!.rows).toBe(alive.length);
      for (const r of alive) expect(maxAbsDiff(seen[l]!.get(r)!, refRow(l, r))).toBeLessThan(1e-4);
    }
  });

  test('all rows leaving at exit 1 skip every later stage', async () => {
    const { seen, onExit } = recorder(() => true);
    const result = await engine.run(fixtures.input, batch, onExit);
    expect(Array.from(result.exits)).toEqual(new Array(batch).fill(0));
    expect(result.stages.slice(1).every((s) => s.rows === 0 && s.ms === 0)).toBe(true);
    expect(seen).toHaveLength(1);
    expect(maxAbsDiff(result.logits, reference[0]!)).toBeLessThan(1e-5);
  });

  test('a boolean[] answer works like a Uint8Array', async () => {
    const result = await engine.run(fixtures.input, batch, (exit, _z, rows) => Array.from(rows, (r) => r % 2 === 0 && exit === 1));
    expect(Array.from(result.exits)).toEqual([...Array(batch).keys()].map((r) => (r % 2 === 0 ? 1 : engine.stageCount - 1)));
  });

  test.each([
    ['one float short', (n: number) => [new Float32Array(n * 1024 - 1), n]],
    ['batch size 0', () => [new Float32Array(0), 0]],
    ['fractional batch', () => [new Float32Array(1024), 1.5]],
    ['not a Float32Array', () => [new Float64Array(1024), 1]],
  ] as const)('%s → BAD_PARAMETER', async (_name, make) => {
    const [input, n] = make(2) as unknown as readonly [Float32Array, number];
    await expect(engine.run(input, n, () => [])).rejects.toMatchObject({ code: 'BAD_PARAMETER' });
  });

  test('an answer of the wrong length is refused', async () => {
    await expect(engine.run(fixtures.input, batch, () => new Uint8Array(1))).rejects.toBeInstanceOf(EeroError);
  });

  test('an aborted signal stops the run with ABORTED', async () => {
    const controller = new AbortController();
    const onExit: OnExit = (_l, _z, rows) => {
      controller.abort();
      return new Uint8Array(rows.length);
    };
    await expect(engine.run(fixtures.input, batch, onExit, controller.signal)).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

/**
 * Rows with a due time (a deadline) in the batcher: earliest due first, never mixed with rows that
 * have none, and the due times left waiting told to the run. A fake run function (no model), a fake
 * clock; a gated run holds the engine busy while rows queue.
 */
import { createBatcher, type BatchInput, type Batcher, type BatcherOptions, type Party } from '../../src/batching';

const LEN = 2;

interface Harness {
  batcher: Batcher<string, string>;
  runs: Array<{ metas: string[]; behind: number[] | undefined }>;
  release(): void;
  clock: { now: number };
}

function harness(options: Partial<BatcherOptions<string, string>> = {}): Harness {
  const runs: Harness['runs'] = [];
  const gates: Array<() => void> = [];
  const clock = { now: 0 };
  const run = async (b: BatchInput<string>): Promise<string[]> => {
    runs.push({ metas: [...b.metas], behind: b.behind });
    await new Promise<void>((r) => gates.push(r));
    return b.metas;
  };
  const batcher = createBatcher<string, string>({
    imageLength: LEN,
    maxBatch: 4,
    maxWaitMs: 0,
    maxQueue: 64,
    run,
    now: () => clock.now,
    ...options,
  });
  return { batcher, runs, release: () => gates.shift()?.(), clock };
}

const row = (): Float32Array => new Float32Array(LEN);
const party = (address: string, port: number): Party => ({ client: `addr:${address}`, connection: `${address}:${port}` });
/** `n` rows of `who`, named `name-0`..., due at 20, 21, ... */
const dueRows = (name: string, n: number, who: Party): Array<[string, number, Party]> =>
  Array.from({ length: n }, (_, i) => [`${name}-${i}`, 20 + i, who]);
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Queue rows while a first row runs, then let every run finish in turn. */
async function queueBehindBusy(h: Harness, rows: Array<[string, number | undefined, Party?]>): Promise<void> {
  const busy = h.batcher.admit(1).submit(row(), 'busy');
  await tick();
  const answers = rows.map(([meta, due, party]) => h.batcher.admit(1, party).submit(row(), meta, undefined, due));
  await tick();
  for (let i = 0; i < 10 && h.runs.length < 20; i++) {
    h.release();
    await tick();
  }
  await Promise.all([busy, ...answers]);
}

describe('batcher: rows with a due time', () => {
  test('run before rows queued earlier without one, earliest due first, in batches of their own kind', async () => {
    const h = harness();
    await queueBehindBusy(h, [
      ['plain-1', undefined],
      ['due-30', 30],
      ['plain-2', undefined],
      ['due-10', 10],
      ['due-20', 20],
    ]);
    expect(h.runs.map((r) => r.metas)).toEqual([['busy'], ['due-10', 'due-20', 'due-30'], ['plain-1', 'plain-2']]);
  });

  test('equal due times keep their arrival order; a full batch leaves the rest, and the run is told their due times', async () => {
    const h = harness({ maxBatch: 2 });
    await queueBehindBusy(h, [
      ['a', 50],
      ['b', 50],
      ['c', 40],
      ['d', 60],
      ['e', undefined],
    ]);
    expect(h.runs.map((r) => r.metas)).toEqual([['busy'], ['c', 'a'], ['b', 'd'], ['e']]);
    expect(h.runs.map((r) => r.behind)).toEqual([[], [50, 60], [], []]);
  });

  test('a row without a due time is passed over for at most maxBypassMs', async () => {
    const h = harness({ maxBatch: 1, maxBypassMs: 100 });
    const busy = h.batcher.admit(1).submit(row(), 'busy');
    await tick();
    const plain = h.batcher.admit(1).submit(row(), 'plain'); // ranks as due at 0 + 100
    const early = h.batcher.admit(1).submit(row(), 'due-90', undefined, 90);
    const late = h.batcher.admit(1).submit(row(), 'due-110', undefined, 110);
    await tick();
    for (let i = 0; i < 4; i++) {
      h.release();
      await tick();
    }
    await Promise.all([busy, plain, early, late]);
    expect(h.runs.map((r) => r.metas)).toEqual([['busy'], ['due-90'], ['plain'], ['due-110']]);
  });

  test('with maxWaitMs, a row with a due time waits for company at most a quarter of the time it had left', async () => {
    jest.useFakeTimers();
    try {
      const h = harness({ maxWaitMs: 40 });
      const plain = h.batcher.admit(1).submit(row(), 'plain');
      await Promise.resolve();
      h.clock.now = 2;
      const due = h.batcher.admit(1).submit(row(), 'due', undefined, 2 + 40); // waits until 2 + 10
      await Promise.resolve();
      h.clock.now = 11;
      jest.advanceTimersByTime(9);
      await Promise.resolve();
      expect(h.runs).toHaveLength(0);
      h.clock.now = 12;
      await jest.advanceTimersByTimeAsync(1);
      expect(h.runs.map((r) => r.metas)).toEqual([['due']]);
      // The row without a due time still waits its maxWaitMs.
      h.release();
      await jest.advanceTimersByTimeAsync(1);
      expect(h.runs).toHaveLength(1);
      h.clock.now = 40;
      await jest.advanceTimersByTimeAsync(28);
      expect(h.runs.map((r) => r.metas)).toEqual([['due'], ['plain']]);
      h.release();
      await Promise.all([plain, due]);
    } finally {
      jest.useRealTimers();
    }
  });

  test('rows already past their due time go after the rows still in time, earliest due first among each, and the run is told the order', async () => {
    const h = harness({ maxBatch: 2 });
    const busy = h.batcher.admit(1).submit(row(), 'busy');
    await tick();
    const rows = (
      [
        ['late-5', 5],
        ['late-8', 8],
        ['in-time-60', 60],
        ['in-time-40', 40],
      ] as const
    ).map(([meta, due]) => h.batcher.admit(1).submit(row(), meta, undefined, due));
    await tick();
    // The busy run ends at 10: the first two rows are late by then.
    h.clock.now = 10;
    for (let i = 0; i < 4; i++) {
      h.release();
      await tick();
    }
    await Promise.all([busy, ...rows]);
    expect(h.runs.map((r) => r.metas)).toEqual([['busy'], ['in-time-40', 'in-time-60'], ['late-5', 'late-8']]);
    expect(h.runs[1]?.behind).toEqual([5, 8]);
  });

  test('a late row ranks as if due maxBypassMs later: after rows due before that, before rows due after', async () => {
    const h = harness({ maxBatch: 1, maxBypassMs: 100 });
    const busy = h.batcher.admit(1).submit(row(), 'busy');
    await tick();
    const late = h.batcher.admit(1).submit(row(), 'late-5', undefined, 5); // late at 50: ranks as due at 105
    const inTime = [60, 300].map((due) => h.batcher.admit(1).submit(row(), `in-time-${due}`, undefined, due));
    await tick();
    h.clock.now = 50;
    for (let i = 0; i < 4; i++) {
      h.release();
      await tick();
    }
    await Promise.all([busy, late, ...inTime]);
    expect(h.runs.map((r) => r.metas)).toEqual([['busy'], ['in-time-60'], ['late-5'], ['in-time-300']]);
  });

  test('a due time that is not a finite number is refused', async () => {
    const h = harness();
    await expect(h.batcher.admit(1).submit(row(), 'x', undefined, NaN)).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(h.batcher.queued).toBe(0);
  });

  test("the kind of each batch goes by turns between clients: one client's rows with a due time do not hold another's without one", async () => {
    const h = harness();
    await queueBehindBusy(h, [...dueRows('flood', 8, party('10.0.0.2', 1)), ['other', undefined, party('10.0.0.1', 1)]]);
    expect(h.runs.map((r) => r.metas)).toEqual([
      ['busy'],
      ['flood-0', 'flood-1', 'flood-2', 'flood-3'],
      ['other'],
      ['flood-4', 'flood-5', 'flood-6', 'flood-7'],
    ]);
  });

  test("and between a client's connections; a connection's own rows with a due time still go before its rows without one", async () => {
    const h = harness();
    const two = party('10.0.0.1', 2);
    await queueBehindBusy(h, [...dueRows('one', 8, party('10.0.0.1', 1)), ['two-plain', undefined, two], ['two-due', 50, two]]);
    expect(h.runs.map((r) => r.metas)).toEqual([
      ['busy'],
      ['one-0', 'two-due', 'one-1', 'one-2'],
      ['one-3', 'one-4', 'one-5', 'one-6'],
      ['two-plain'],
      ['one-7'],
    ]);
  });

  test('a client whose batch took all it had waiting is still the one served last when its next rows come', async () => {
    const h = harness();
    const [flood, other] = [party('10.0.0.2', 1), party('10.0.0.1', 1)];
    const send = (meta: string, due: number | undefined, party: Party) => h.batcher.admit(1, party).submit(row(), meta, undefined, due);
    // The first batch takes all four of the flood's rows: none of its rows is left waiting.
    const answers = [0, 1, 2, 3].map((i) => send(`flood-${i}`, 20 + i, flood));
    await tick();
    // While it runs: another client's row without a due time, and four more of the flood's.
    answers.push(send('other', undefined, other), ...[4, 5, 6, 7].map((i) => send(`flood-${i}`, 20 + i, flood)));
    for (let i = 0; i < 6; i++) {
      h.release();
      await tick();
    }
    await Promise.all(answers);
    expect(h.runs.map((r) => r.metas)).toEqual([
      ['flood-0', 'flood-1', 'flood-2', 'flood-3'],
      ['other'],
      ['flood-4', 'flood-5', 'flood-6', 'flood-7'],
    ]);
  });
});

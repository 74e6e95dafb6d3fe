/** The batcher on its own: a fake run function (no model), a fake clock and timers, so no wall-clock window decides a test. */
import { createBatcher, type BatchInput, type BatchReport, type Batcher, type BatcherOptions, type Party } from '../../src/batching';
import { EeroError } from '../../src/errors';

const LEN = 4;

interface Harness {
  batcher: Batcher<number, string>;
  /** Every run's rows (their metas) and first float per row, in order. */
  runs: Array<{ metas: number[]; firsts: number[] }>;
  reports: BatchReport[];
  /** Resolve the run in progress (runs wait for this when `gated`). */
  release(): void;
  clock: { now: number };
}

function harness(options: Partial<BatcherOptions<number, string>> = {}, gated = false): Harness {
  const runs: Harness['runs'] = [];
  const reports: BatchReport[] = [];
  const gates: Array<() => void> = [];
  const clock = { now: 0 };
  const run = async (b: BatchInput<number>): Promise<string[]> => {
    runs.push({ metas: [...b.metas], firsts: b.metas.map((_, i) => b.input[i * LEN] as number) });
    if (gated) await new Promise<void>((r) => gates.push(r));
    return b.metas.map((m) => `answer ${m}`);
  };
  const batcher = createBatcher<number, string>({
    imageLength: LEN,
    maxBatch: 32,
    maxWaitMs: 0,
    maxQueue: 64,
    run,
    now: () => clock.now,
    onBatch: (r) => reports.push(r),
    ...options,
  });
  return { batcher, runs, reports, release: () => gates.shift()?.(), clock };
}

const row = (v: number): Float32Array => new Float32Array(LEN).fill(v);

async function rejection(p: Promise<unknown>): Promise<EeroError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof EeroError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A connection from one address (one client): fair shares and turns between connections of that client. */
const conn = (connection: string): Party => ({ client: 'addr:127.0.0.1', connection });

/** The code of the EeroError `f` throws, or undefined when it throws none. */
function codeThrown(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof EeroError) return e.code;
    throw e;
  }
  return undefined;
}

describe('dynamic batcher', () => {
  test('the rows of one request, submitted together, form one batch; each answer comes back to its row', async () => {
    const h = harness();
    const a = h.batcher.admit(3);
    const answers = await Promise.all([1, 2, 3].map((v) => a.submit(row(v), v)));
    expect(h.runs).toEqual([{ metas: [1, 2, 3], firsts: [1, 2, 3] }]);
    expect(answers.map((x) => x.result)).toEqual(['answer 1', 'answer 2', 'answer 3']);
    expect(answers.every((x) => x.timings.batchSize === 3)).toBe(true);
  });

  test('rows arriving while a batch runs gather into the next one (maxWaitMs 0: run at once when idle)', async () => {
    const h = harness({}, true);
    const first = h.batcher.admit(1).submit(row(1), 1);
    await tick();
    expect(h.runs).toHaveLength(1);
    const later = [2, 3, 4].map((v) => h.batcher.admit(1).submit(row(v), v));
    await tick();
    expect(h.batcher.depth).toBe(3);
    h.release();
    await first;
    await tick();
    expect(h.runs.map((r) => r.metas)).toEqual([[1], [2, 3, 4]]);
    h.release();
    await Promise.all(later);
  });

  test('no run takes more than maxBatch rows', async () => {
    const h = harness({ maxBatch: 4 });
    const a = h.batcher.admit(10);
    await Promise.all(Array.from({ length: 10 }, (_, i) => a.submit(row(i), i)));
    expect(h.runs.map((r) => r.metas.length)).toEqual([4, 4, 2]);
  });

  test('maxWaitMs holds a lone row for company until its deadline on the clock', async () => {
    jest.useFakeTimers();
    try {
      const h = harness({ maxWaitMs: 40 });
      const answer = h.batcher.admit(1).submit(row(1), 1);
      await Promise.resolve();
      jest.advanceTimersByTime(30);
      expect(h.runs).toHaveLength(0);
      h.clock.now = 40;
      jest.advanceTimersByTime(10);
      await jest.runAllTimersAsync();
      const r = await answer;
      expect(r.timings).toEqual(expect.objectContaining({ batchSize: 1, queueMs: 40 }));
    } finally {
      jest.useRealTimers();
    }
  });

  test('admission is all or nothing: places are held for a whole request, beyond maxQueue it refuses with OVERLOADED', async () => {
    const h = harness({ maxQueue: 4 }, true);
    const running = h.batcher.admit(1).submit(row(0), 0);
    await tick();
    const held = h.batcher.admit(3);
    expect(h.batcher.depth).toBe(3);
    const refused = (() => {
      try {
        h.batcher.admit(2);
      } catch (e) {
        return e as EeroError;
      }
      return undefined;
    })();
    expect(refused?.code).toBe('OVERLOADED');
    expect(refused?.httpStatus).toBe(503);
    expect(refused?.details).toMatchObject({ maxQueue: 4, retryAfterSeconds: 1 });
    // Releasing unused places (e.g. images that failed to decode) frees them at once.
    const queued = held.submit(row(1), 1);
    held.release();
    expect(h.batcher.depth).toBe(1);
    expect(() => h.batcher.admit(3).release()).not.toThrow();
    h.release();
    await running;
    await tick();
    h.release();
    await queued;
  });

  test('a full queue: the connection with the most rows waiting gives way to one with fewer, its newest rows first', async () => {
    const h = harness({ maxQueue: 4 }, true);
    const running = h.batcher.admit(1, conn('a')).submit(row(0), 0);
    await tick();
    const a = h.batcher.admit(4, conn('a'));
    const aRows = [1, 2, 3, 4].map((m) => a.submit(row(m), m));
    const outcome: string[] = [];
    aRows.forEach((p, i) => {
      p.then(
        () => outcome.push(`a${i + 1} ran`),
        (e: EeroError) => outcome.push(`a${i + 1} ${e.code}`),
      );
    });
    // b has nothing waiting: a (4 rows) gives its newest row way.
    const b = h.batcher.admit(1, conn('b')).submit(row(5), 5);
    await tick();
    expect(outcome).toEqual(['a4 OVERLOADED']);
    // a, with 3 against b's 1, may not take a place back; neither may a request without a connection.
    expect(codeThrown(() => h.batcher.admit(1, conn('a')))).toBe('OVERLOADED');
    expect(codeThrown(() => h.batcher.admit(1))).toBe('OVERLOADED');
    // c (nothing waiting) takes one of a's places: then a and b hold 2 and 1, c 1; d finds no one above 1 + 1.
    const c = h.batcher.admit(1, conn('c')).submit(row(6), 6);
    await tick();
    expect(outcome).toEqual(['a4 OVERLOADED', 'a3 OVERLOADED']);
    expect(codeThrown(() => h.batcher.admit(2, conn('d')))).toBe('OVERLOADED');
    for (let i = 0; i < 2; i++) {
      h.release();
      await tick();
    }
    await Promise.all([running, b, c]);
    expect(h.runs.flatMap((r) => r.metas).sort()).toEqual([0, 1, 2, 5, 6]);
  });

  test("connections take turns: one row of a quiet connection runs before a flooding connection's backlog", async () => {
    const h = harness({ maxBatch: 2 }, true);
    const running = h.batcher.admit(1, conn('a')).submit(row(0), 0);
    await tick();
    const a = h.batcher.admit(6, conn('a'));
    const flood = [1, 2, 3, 4, 5, 6].map((m) => a.submit(row(m), m));
    const quiet = h.batcher.admit(1, conn('b')).submit(row(7), 7);
    for (let i = 0; i < 5; i++) {
      h.release();
      await tick();
    }
    await Promise.all([running, quiet, ...flood]);
    // The quiet connection's row joins the first batch after the one running; without a connection it would be last.
    expect(h.runs.map((r) => r.metas)).toEqual([[0], [1, 7], [2, 3], [4, 5], [6]]);
  });

  test('between clients: one on many connections gives way to another with fewer rows, which is taken in turn', async () => {
    const h = harness({ maxQueue: 4, maxBatch: 4 }, true);
    const running = h.batcher.admit(1, { client: 'x', connection: '0' }).submit(row(0), 0);
    await tick();
    // Client x: four rows on four connections; none alone has more than the newcomer will.
    const xs = [1, 2, 3, 4].map((m) => h.batcher.admit(1, { client: 'x', connection: String(m) }).submit(row(m), m));
    const outcome: string[] = [];
    xs.forEach((p, i) => {
      p.then(
        () => outcome.push(`x${i + 1} ran`),
        (e: EeroError) => outcome.push(`x${i + 1} ${e.code}`),
      );
    });
    const y = h.batcher.admit(1, { client: 'y', connection: '9' }).submit(row(5), 5);
    await tick();
    // x as a client has the most: its first connection of the heaviest gives its row.
    expect(outcome).toEqual(['x1 OVERLOADED']);
    for (let i = 0; i < 2; i++) {
      h.release();
      await tick();
    }
    await Promise.all([running, y]);
    // The next batch takes one row of each client in turn: x's first, y's, then x's others.
    expect(h.runs.map((r) => r.metas)).toEqual([[0], [2, 5, 3, 4]]);
  });

  test('places held for rows still decoding give way too: that row is refused when it is submitted', async () => {
    const h = harness({ maxQueue: 2 }, true);
    const running = h.batcher.admit(1, conn('a')).submit(row(0), 0);
    await tick();
    const a = h.batcher.admit(2, conn('a'));
    const b = h.batcher.admit(1, conn('b'));
    expect(h.batcher.depth).toBe(2);
    const first = a.submit(row(1), 1);
    expect((await rejection(a.submit(row(2), 2))).code).toBe('OVERLOADED');
    const second = b.submit(row(3), 3);
    h.release();
    await tick();
    h.release();
    await Promise.all([running, first, second]);
    expect(h.batcher.depth).toBe(0);
  });

  test('a row whose request went away before its batch started never reaches the run', async () => {
    const h = harness({}, true);
    const first = h.batcher.admit(1).submit(row(0), 0);
    await tick();
    const gone = new AbortController();
    const a = h.batcher.admit(2);
    const dropped = a.submit(row(1), 1, gone.signal);
    const kept = a.submit(row(2), 2);
    gone.abort(new EeroError('TIMEOUT', 'too slow'));
    expect((await rejection(dropped)).code).toBe('TIMEOUT');
    h.release();
    await first;
    await tick();
    h.release();
    await kept;
    expect(h.runs.map((r) => r.metas)).toEqual([[0], [2]]);
    // An already aborted signal is refused without queueing.
    expect((await rejection(h.batcher.admit(1).submit(row(3), 3, AbortSignal.abort()))).code).toBe('ABORTED');
    expect(h.batcher.depth).toBe(0);
  });

  test('a failed run rejects its rows with the error and the batcher goes on', async () => {
    let fail = true;
    const batcher = createBatcher<number, string>({
      imageLength: LEN,
      maxBatch: 8,
      maxWaitMs: 0,
      maxQueue: 8,
      run: (b) => {
        if (fail) return Promise.reject(new EeroError('INTERNAL', 'engine broke'));
        return Promise.resolve(b.metas.map(String));
      },
    });
    expect((await rejection(batcher.admit(1).submit(row(1), 1))).code).toBe('INTERNAL');
    fail = false;
    expect((await batcher.admit(1).submit(row(2), 2)).result).toBe('2');
  });

  test('drain runs the queued rows at once, then refuses new ones with SHUTTING_DOWN', async () => {
    const h = harness({ maxWaitMs: 30_000 });
    const a = h.batcher.admit(3);
    const queued = [0, 1, 2].map((v) => a.submit(row(v), v));
    await h.batcher.drain();
    expect((await Promise.all(queued)).map((r) => r.timings.batchSize)).toEqual([3, 3, 3]);
    expect(h.batcher.depth).toBe(0);
    expect(h.batcher.running).toBe(0);
    expect(() => h.batcher.admit(1)).toThrow(expect.objectContaining({ code: 'SHUTTING_DOWN' }));
    await h.batcher.drain(); // idempotent, resolves when idle
  });

  test('a row of the wrong size, or more rows than admitted, are refused without disturbing the queue', async () => {
    const h = harness();
    const a = h.batcher.admit(1);
    expect((await rejection(a.submit(new Float32Array(3), 0))).code).toBe('INTERNAL');
    expect((await rejection(a.submit(row(1), 1))).code).toBe('INTERNAL');
    expect(h.batcher.depth).toBe(0);
  });

  test('a batch forms after settle: rows that arrive while it settles join that batch, and no second batch starts meanwhile', async () => {
    let arrive: (() => void) | undefined;
    let settles = 0;
    const settle = async (): Promise<void> => {
      settles++;
      // What "was already in the kernel": more rows arrive while the batcher settles.
      arrive?.();
      arrive = undefined;
      await Promise.resolve();
    };
    const h = harness({ settle });
    const a = h.batcher.admit(3);
    arrive = () => {
      void a.submit(row(1), 1);
      void a.submit(row(2), 2);
    };
    const first = a.submit(row(0), 0);
    expect((await first).timings.batchSize).toBe(3);
    expect(h.runs.map((r) => r.metas)).toEqual([[0, 1, 2]]);
    expect(settles).toBe(1);
  });

  test('rows that leave while the batch settles are not run; a settle that fails only forms the batch without it', async () => {
    const gone = new AbortController();
    const h = harness({
      settle: () => {
        gone.abort(new EeroError('ABORTED', 'the client went away'));
        return Promise.resolve();
      },
    });
    const lone = h.batcher.admit(1).submit(row(0), 0, gone.signal);
    expect((await rejection(lone)).code).toBe('ABORTED');
    expect(h.runs).toEqual([]);
    expect(h.batcher.depth).toBe(0);

    const failing = harness({ settle: () => Promise.reject(new Error('settle broke')) });
    expect((await failing.batcher.admit(1).submit(row(5), 5)).result).toBe('answer 5');
  });

  test('invalid options are a CONFIG_INVALID error at creation', () => {
    const run = (): Promise<string[]> => Promise.resolve([]);
    expect(() => createBatcher({ imageLength: LEN, maxBatch: 0, maxWaitMs: 0, maxQueue: 1, run })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    expect(() => createBatcher({ imageLength: LEN, maxBatch: 1, maxWaitMs: -1, maxQueue: 1, run })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});

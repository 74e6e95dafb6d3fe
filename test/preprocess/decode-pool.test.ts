/** The decode pool's scheduling, with jobs the test finishes by hand: slots, round-robin across clients, the small-image slot, aborts. */
import { EeroError } from '../../src/errors';
import { createDecodePool, type DecodePool } from '../../src/preprocess';
import { defaultDecodeSlots } from '../../src/preprocess/decode-pool';

const LARGE = 1_000;

interface Handle {
  name: string;
  finish: () => void;
  fail: (e: unknown) => void;
  result: Promise<string>;
}

/** Enqueues a job named `name` whose task records its start in `started` and waits for `finish`. */
function submit(
  pool: DecodePool,
  started: string[],
  name: string,
  client: string,
  pixels = 1,
  signal?: AbortSignal,
  dueAt?: number,
  connection?: string,
): Handle {
  let finish = (): void => undefined;
  let fail = (_e: unknown): void => undefined;
  const job = {
    client,
    pixels,
    ...(signal ? { signal } : {}),
    ...(dueAt === undefined ? {} : { dueAt }),
    ...(connection === undefined ? {} : { connection }),
  };
  const result = pool.run(job, () => {
    started.push(name);
    return new Promise<string>((resolve, reject) => {
      finish = () => resolve(name);
      fail = reject;
    });
  });
  const handle: Handle = { name, result, finish: () => finish(), fail: (e) => fail(e) };
  return handle;
}

/** Lets every settled promise run its callbacks. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('the decode pool', () => {
  it("starts a client's jobs still in time before its jobs already past their due time, in queue order among each", async () => {
    const clock = { now: 0 };
    const pool = createDecodePool({ slots: 1, largePixels: LARGE, now: () => clock.now });
    const started: string[] = [];
    const first = submit(pool, started, 'first', 'a');
    const jobs = [
      submit(pool, started, 'due-10', 'a', 1, undefined, 10),
      submit(pool, started, 'no-deadline', 'a'),
      submit(pool, started, 'due-20', 'a', 1, undefined, 20),
      submit(pool, started, 'due-100', 'a', 1, undefined, 100),
    ];
    await flush();
    clock.now = 15; // due-10 is late now
    for (const j of [first, ...jobs]) {
      j.finish();
      await flush();
    }
    // Each finish lets the next start; finishing a job that has not started yet does nothing, so finish them all once more.
    for (const j of jobs) j.finish();
    await Promise.all([first, ...jobs].map((j) => j.result));
    expect(started).toEqual(['first', 'no-deadline', 'due-20', 'due-100', 'due-10']);
  });

  it('without a clock, due times change nothing', async () => {
    const pool = createDecodePool({ slots: 1, largePixels: LARGE });
    const started: string[] = [];
    const jobs = [
      submit(pool, started, 'first', 'a'),
      submit(pool, started, 'due-0', 'a', 1, undefined, 0),
      submit(pool, started, 'x', 'a'),
    ];
    for (let i = 0; i < 3; i++) {
      for (const j of jobs) j.finish();
      await flush();
    }
    await Promise.all(jobs.map((j) => j.result));
    expect(started).toEqual(['first', 'due-0', 'x']);
  });

  it('runs at most `slots` jobs at once and starts the next as one finishes', async () => {
    const pool = createDecodePool({ slots: 2, largePixels: LARGE });
    const started: string[] = [];
    const jobs = ['a1', 'a2', 'a3', 'a4'].map((n) => submit(pool, started, n, 'a'));
    await flush();
    expect(started).toEqual(['a1', 'a2']);
    expect(pool.state()).toMatchObject({ running: 2, waiting: 2, clients: 1 });
    jobs[1]?.finish();
    await expect(jobs[1]?.result).resolves.toBe('a2');
    await flush();
    expect(started).toEqual(['a1', 'a2', 'a3']);
    jobs[0]?.finish();
    await jobs[0]?.result;
    await flush();
    expect(started).toEqual(['a1', 'a2', 'a3', 'a4']);
    jobs[2]?.finish();
    jobs[3]?.finish();
    await Promise.all(jobs.map((j) => j.result));
    expect(pool.state()).toMatchObject({ running: 0, waiting: 0, clients: 0 });
  });

  it('serves waiting clients in turn: a client with many jobs queued first delays another client by one job, not all of them', async () => {
    const pool = createDecodePool({ slots: 1, largePixels: LARGE });
    const started: string[] = [];
    const jobs: Handle[] = [];
    for (let i = 1; i <= 5; i++) jobs.push(submit(pool, started, `a${i}`, 'a'));
    jobs.push(submit(pool, started, 'b1', 'b'), submit(pool, started, 'b2', 'b'), submit(pool, started, 'c1', 'c'));
    // Finish whichever job runs, one at a time, and record the order they ran in.
    for (let k = 0; k < jobs.length; k++) {
      await flush();
      const running = jobs.find((j) => j.name === started[started.length - 1]);
      running?.finish();
      await running?.result;
    }
    // a1 ran alone; then a, b, c waited in the order they came, and each client served goes to the back.
    expect(started).toEqual(['a1', 'a2', 'b1', 'c1', 'a3', 'b2', 'a4', 'a5']);
  });

  it("goes round a client's connections in turn too: one connection's backlog delays another of the same client by one job", async () => {
    const pool = createDecodePool({ slots: 1, largePixels: LARGE });
    const started: string[] = [];
    const jobs: Handle[] = [];
    for (let i = 1; i <= 4; i++) jobs.push(submit(pool, started, `x${i}`, 'a', 1, undefined, undefined, 'x'));
    jobs.push(submit(pool, started, 'y1', 'a', 1, undefined, undefined, 'y'), submit(pool, started, 'b1', 'b'));
    for (let k = 0; k < jobs.length; k++) {
      await flush();
      const running = jobs.find((j) => j.name === started[started.length - 1]);
      running?.finish();
      await running?.result;
    }
    // x1 ran alone; then client a (connection x, then y in turn), client b, client a again.
    expect(started).toEqual(['x1', 'x2', 'b1', 'y1', 'x3', 'x4']);
    expect(pool.state()).toMatchObject({ running: 0, waiting: 0, clients: 0 });
  });

  it('keeps one slot for small images: large ones from any number of clients never hold every slot', async () => {
    const pool = createDecodePool({ slots: 3, largePixels: LARGE });
    expect(pool.largeSlots).toBe(2);
    const started: string[] = [];
    const bombs = Array.from({ length: 8 }, (_, i) => submit(pool, started, `bomb${i}`, `attacker${i}`, LARGE + 1));
    await flush();
    expect(started).toEqual(['bomb0', 'bomb1']);
    // A small image arrives while six large ones wait: it starts at once.
    const victim = submit(pool, started, 'victim', 'victim', 28 * 28);
    await flush();
    expect(started).toEqual(['bomb0', 'bomb1', 'victim']);
    victim.finish();
    await victim.result;
    await flush();
    // Its slot is not given to a large image.
    expect(started).toHaveLength(3);
    expect(pool.state()).toMatchObject({ running: 2, runningLarge: 2, waiting: 6 });
    bombs[0]?.finish();
    await bombs[0]?.result;
    await flush();
    expect(started).toEqual(['bomb0', 'bomb1', 'victim', 'bomb2']);
  });

  it("lets a client's small image pass its own large ones that cannot start", async () => {
    const pool = createDecodePool({ slots: 2, largePixels: LARGE });
    const started: string[] = [];
    submit(pool, started, 'large1', 'a', LARGE + 1);
    submit(pool, started, 'large2', 'a', LARGE + 1);
    submit(pool, started, 'small', 'a', 1);
    await flush();
    expect(started).toEqual(['large1', 'small']);
  });

  it('takes a job out of its queue when its signal aborts, with ABORTED, and never starts it', async () => {
    const pool = createDecodePool({ slots: 1, largePixels: LARGE });
    const started: string[] = [];
    const first = submit(pool, started, 'first', 'a');
    const stop = new AbortController();
    const dropped = submit(pool, started, 'dropped', 'b', 1, stop.signal);
    const next = submit(pool, started, 'next', 'c');
    stop.abort(new Error('client went away'));
    await expect(dropped.result).rejects.toMatchObject({ code: 'ABORTED' });
    expect(pool.state()).toMatchObject({ waiting: 1, clients: 1 });
    first.finish();
    await first.result;
    await flush();
    expect(started).toEqual(['first', 'next']);
    next.finish();
    await next.result;
    const already = new AbortController();
    already.abort();
    await expect(pool.run({ client: 'a', pixels: 1, signal: already.signal }, () => Promise.resolve(1))).rejects.toBeInstanceOf(EeroError);
  });

  it('passes a failed job on and frees its slot; a task that throws at once counts as failed', async () => {
    const pool = createDecodePool({ slots: 1, largePixels: LARGE });
    const started: string[] = [];
    const failing = submit(pool, started, 'failing', 'a');
    const after = submit(pool, started, 'after', 'a');
    await flush();
    failing.fail(new EeroError('CORRUPT_IMAGE', 'bad.'));
    await expect(failing.result).rejects.toMatchObject({ code: 'CORRUPT_IMAGE' });
    await flush();
    expect(started).toEqual(['failing', 'after']);
    after.finish();
    await after.result;
    await expect(
      pool.run({ client: 'a', pixels: 1 }, () => {
        throw new RangeError('at once');
      }),
    ).rejects.toThrow('at once');
    expect(pool.state().running).toBe(0);
  });

  it('refuses a slot count or large-image size that is not positive', () => {
    expect(() => createDecodePool({ slots: 0 })).toThrow(RangeError);
    expect(() => createDecodePool({ slots: 1.5 })).toThrow(RangeError);
    expect(() => createDecodePool({ largePixels: 0 })).toThrow(RangeError);
    expect(createDecodePool({ slots: 1 }).largeSlots).toBe(1);
  });
});

describe('the default number of decode slots', () => {
  test('one per usable core, below the libuv thread pool (4 threads unless set) so reads always find a thread', () => {
    expect(defaultDecodeSlots(64, undefined)).toBe(3);
    expect(defaultDecodeSlots(64, '9')).toBe(8);
    expect(defaultDecodeSlots(3, '9')).toBe(3);
  });

  test('two at least where the pool allows, so that a large image never holds the only slot (a 1-CPU quota)', () => {
    expect(defaultDecodeSlots(1, undefined)).toBe(2);
    expect(defaultDecodeSlots(1, '2')).toBe(1);
  });
});

/**
 * A dynamic batcher (Triton-style): rows from concurrent requests gather
 * until `maxBatch` rows wait or the oldest has waited `maxWaitMs`, whichever
 * comes first; one run at a time, the next batch gathering while one runs.
 * Rows with a due time (a deadline) go first, earliest due first (due-queue.ts).
 * It knows nothing of models: it copies rows into one tensor and calls `run`.
 */
import { performance } from 'node:perf_hooks';
import { EeroError, toEeroError } from '../errors';
import type { Admission, BatchReport, Batched, Batcher, BatcherOptions, Party } from './batcher-types';
import { DueQueue } from './due-queue';
import { FairShares, type HeldPlaces } from './fair-shares';

interface Pending<M, R> {
  party: Party | undefined;
  input: Float32Array;
  meta: M;
  enqueuedAt: number;
  dueAt: number | undefined;
  resolve: (r: Batched<R>) => void;
  reject: (e: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

function checkOptions<M, R>(o: BatcherOptions<M, R>): void {
  const bad = (v: number, min: number, integer: boolean): boolean => !(Number.isFinite(v) && v >= min && (!integer || Number.isInteger(v)));
  if (bad(o.imageLength, 1, true))
    throw new EeroError('CONFIG_INVALID', `batcher: imageLength must be an integer >= 1, got ${o.imageLength}`);
  if (bad(o.maxBatch, 1, true)) throw new EeroError('CONFIG_INVALID', `batcher: maxBatch must be an integer >= 1, got ${o.maxBatch}`);
  if (bad(o.maxQueue, 1, true)) throw new EeroError('CONFIG_INVALID', `batcher: maxQueue must be an integer >= 1, got ${o.maxQueue}`);
  if (bad(o.maxWaitMs, 0, false)) throw new EeroError('CONFIG_INVALID', `batcher: maxWaitMs must be >= 0, got ${o.maxWaitMs}`);
  if (o.maxBypassMs !== undefined && bad(o.maxBypassMs, 0, false))
    throw new EeroError('CONFIG_INVALID', `batcher: maxBypassMs must be >= 0, got ${o.maxBypassMs}`);
}

/** Default BatcherOptions.maxBypassMs. */
const DEFAULT_MAX_BYPASS_MS = 1000;

export function createBatcher<M, R>(options: BatcherOptions<M, R>): Batcher<M, R> {
  checkOptions(options);
  const { imageLength, maxBatch, maxWaitMs, maxQueue } = options;
  const now = options.now ?? (() => performance.now());
  const retryAfterSeconds = options.retryAfterSeconds ?? 1;
  const queue = new DueQueue<Pending<M, R>>(options.maxBypassMs ?? DEFAULT_MAX_BYPASS_MS);
  const shares = new FairShares<Pending<M, R>>();
  // One buffer for every run: a batch's floats live only until its run settles.
  let buffer = new Float32Array(0);
  let held = 0;
  let timer: NodeJS.Timeout | undefined;
  let timerEnds = Infinity;
  let runningRows = 0;
  /** Awaiting options.settle before the next batch: no other batch may start meanwhile. */
  let settling = false;
  let draining = false;
  const idleWaiters: Array<() => void> = [];

  // Rows submitted in one synchronous loop (one request) are seen together before a batch forms.
  let soon = false;
  const scheduleSoon = (): void => {
    if (soon) return;
    soon = true;
    queueMicrotask(() => {
      soon = false;
      schedule();
    });
  };

  const clearTimer = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };

  const notifyIdle = (): void => {
    if (runningRows > 0 || queue.length > 0 || held > 0) return;
    for (const done of idleWaiters.splice(0)) done();
  };

  /** Decide what happens next: run now, wait until some row has waited long enough, or nothing. */
  const schedule = (): void => {
    if (runningRows > 0 || settling) return; // the run in progress (or its settling) schedules again when it ends
    if (queue.length === 0) {
      clearTimer();
      notifyIdle();
      return;
    }
    const waitEnds = queue.waitEnds(maxWaitMs);
    const waitLeft = waitEnds - now();
    if (draining || queue.length >= maxBatch || waitLeft <= 0) {
      clearTimer();
      void runNext();
      return;
    }
    // A row with a due time can end the wait sooner than the timer set for the rows before it.
    if (timer !== undefined && timerEnds <= waitEnds) return;
    clearTimer();
    timerEnds = waitEnds;
    timer = setTimeout(() => {
      timer = undefined;
      schedule();
    }, Math.ceil(waitLeft));
  };

  /** The observer (metrics) must never break a batch. */
  const tell = (report: BatchReport, error?: unknown): void => {
    try {
      options.onBatch?.(report, error);
    } catch {
      // ignored on purpose: a metrics bug is not the rows' failure
    }
  };

  const runNext = async (): Promise<void> => {
    if (options.settle) {
      settling = true;
      try {
        await options.settle();
      } catch {
        // A failed settle only means the batch forms without it.
      } finally {
        settling = false;
      }
      // Rows may have left meanwhile (aborted): nothing to run then.
      if (queue.length === 0) {
        schedule();
        return;
      }
    }
    const { taken, behind } = queue.take(maxBatch, now());
    for (const p of taken) {
      if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
      shares.left(p);
    }
    const n = taken.length;
    runningRows = n;
    if (buffer.length < n * imageLength) buffer = new Float32Array(maxBatch * imageLength);
    const input = buffer.subarray(0, n * imageLength);
    taken.forEach((p, i) => input.set(p.input, i * imageLength));
    const start = now();
    const queueMs = taken.map((p) => Math.max(0, start - p.enqueuedAt));
    const report: BatchReport = { size: n, inferenceSeconds: 0, queueSeconds: queueMs.map((ms) => ms / 1000) };
    try {
      const metas = taken.map((p) => p.meta);
      const results = await options.run({ input, metas, signals: taken.map((p) => p.signal), queueMs, behind });
      const inferenceMs = now() - start;
      report.inferenceSeconds = inferenceMs / 1000;
      taken.forEach((p, i) => {
        const result = results[i];
        if (result === undefined) p.reject(new EeroError('INTERNAL', `batcher: no result for row ${i} of ${n}`));
        else p.resolve({ result, timings: { queueMs: queueMs[i] as number, inferenceMs, batchSize: n } });
      });
      tell(report);
    } catch (e) {
      report.inferenceSeconds = (now() - start) / 1000;
      const error = toEeroError(e);
      for (const p of taken) p.reject(error);
      tell(report, error);
    } finally {
      runningRows = 0;
      schedule();
    }
  };

  const queueName = options.name ? ` of model ${options.name}` : '';

  const refusal = (rows: number, party: Party | undefined): EeroError | undefined => {
    if (draining) return new EeroError('SHUTTING_DOWN', 'the service is shutting down', { details: { retryAfterSeconds } });
    const need = queue.length + held + rows - maxQueue;
    if (need <= 0) return undefined;
    const way = shares.giveWay(party, rows, need);
    if (!way) {
      return new EeroError(
        'OVERLOADED',
        `the queue${queueName} is full (${queue.length + held} of ${maxQueue} images waiting); retry later`,
        {
          details: { queueDepth: queue.length + held, maxQueue, retryAfterSeconds },
        },
      );
    }
    for (const p of way.rows) evict(p);
    for (const h of way.places) {
      h.places--;
      h.takenBack++;
      held--;
      shares.unhold(h, 1);
    }
    return undefined;
  };

  /** What a row or a held place is told when it gives way to another client's (fair-shares.ts). */
  const gaveWay = (): EeroError =>
    new EeroError(
      'OVERLOADED',
      `the queue${queueName} is full, and this image gave its place to another client's: its client, or its connection, had the most images waiting; retry later`,
      { details: { maxQueue, retryAfterSeconds } },
    );

  /** Out of the queue, its request told it gave way. */
  const evict = (p: Pending<M, R>): void => {
    if (!queue.remove(p)) return;
    if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
    shares.left(p);
    p.reject(gaveWay());
  };

  const enqueue = (
    input: Float32Array,
    meta: M,
    signal: AbortSignal | undefined,
    dueAt: number | undefined,
    party: Party | undefined,
  ): Promise<Batched<R>> => {
    if (signal?.aborted) return Promise.reject(toEeroError(signal.reason, 'ABORTED'));
    if (!(input instanceof Float32Array) || input.length !== imageLength) {
      return Promise.reject(new EeroError('INTERNAL', `batcher: a row must be ${imageLength} floats, got ${String(input?.length)}`));
    }
    return new Promise<Batched<R>>((resolve, reject) => {
      const pending: Pending<M, R> = { party, input, meta, enqueuedAt: now(), dueAt, resolve, reject, signal, onAbort: undefined };
      if (signal) {
        // Gone before its batch started: dropped, it never reaches the engine or the ledger.
        pending.onAbort = () => {
          if (!queue.remove(pending)) return;
          shares.left(pending);
          reject(toEeroError(signal.reason, 'ABORTED'));
          schedule();
        };
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      queue.push(pending);
      shares.enqueued(pending);
      scheduleSoon();
    });
  };

  const admit = (rows: number, party?: Party): Admission<M, R> => {
    const refused = refusal(rows, party);
    if (refused) throw refused;
    const places: HeldPlaces = { party, places: rows, takenBack: 0 };
    held += rows;
    shares.hold(places);
    const release = (): void => {
      held -= places.places;
      const n = places.places;
      places.places = 0;
      shares.unhold(places, n);
      notifyIdle();
    };
    return {
      submit(input, meta, signal, dueAt) {
        if (places.places <= 0) {
          if (places.takenBack > 0) {
            places.takenBack--;
            return Promise.reject(gaveWay());
          }
          return Promise.reject(new EeroError('INTERNAL', 'batcher: more rows submitted than admitted'));
        }
        places.places--;
        held--;
        shares.unhold(places, 1);
        if (dueAt !== undefined && !Number.isFinite(dueAt))
          return Promise.reject(new EeroError('INTERNAL', `batcher: a due time must be finite, got ${dueAt}`));
        return enqueue(input, meta, signal, dueAt, party);
      },
      release,
    };
  };

  return {
    admit,
    get depth() {
      return queue.length + held;
    },
    get running() {
      return runningRows;
    },
    get queued() {
      return queue.length;
    },
    drain() {
      draining = true;
      const idle = new Promise<void>((done) => idleWaiters.push(done));
      schedule();
      return idle;
    },
  };
}

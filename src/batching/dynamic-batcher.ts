/**
 * A dynamic batcher for one model (Triton-style): rows from concurrent
 * requests gather until `maxBatch` rows wait or the oldest has waited
 * `maxWaitMs`, whichever comes first; one engine run at a time, the next
 * batch gathering while one runs. Rows keep their own RowRequest (budget,
 * policy, ledger), so different budgets share a batch.
 */
import { performance } from 'node:perf_hooks';
import { EeroError, toEeroError } from '../errors';
import { runBatch, type ModelRuntime } from '../pipeline';
import type { BatchedResult, Batcher, BatcherOptions, BatchReport, BatchRow } from './batcher-types';

interface Pending {
  row: BatchRow;
  enqueuedAt: number;
  resolve: (r: BatchedResult) => void;
  reject: (e: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

function checkOptions(o: BatcherOptions): void {
  const bad = (name: string, v: number, min: number, integer: boolean): boolean =>
    !(Number.isFinite(v) && v >= min && (!integer || Number.isInteger(v)));
  if (bad('maxBatch', o.maxBatch, 1, true))
    throw new EeroError('CONFIG_INVALID', `batcher: maxBatch must be an integer >= 1, got ${o.maxBatch}`);
  if (bad('maxQueue', o.maxQueue, 1, true))
    throw new EeroError('CONFIG_INVALID', `batcher: maxQueue must be an integer >= 1, got ${o.maxQueue}`);
  if (bad('maxWaitMs', o.maxWaitMs, 0, false)) throw new EeroError('CONFIG_INVALID', `batcher: maxWaitMs must be >= 0, got ${o.maxWaitMs}`);
}

export function createBatcher(runtime: ModelRuntime, options: BatcherOptions): Batcher {
  checkOptions(options);
  const { maxBatch, maxWaitMs, maxQueue } = options;
  const now = options.now ?? (() => performance.now());
  const imageLength = runtime.preprocessor.imageLength;
  const queue: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;
  let runningRows = 0;
  let draining = false;
  const idleWaiters: Array<() => void> = [];

  const clearTimer = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };

  const notifyIdle = (): void => {
    if (runningRows > 0 || queue.length > 0) return;
    for (const done of idleWaiters.splice(0)) done();
  };

  /** Decide what happens next: run now, wait for the oldest row's deadline, or nothing. */
  const schedule = (): void => {
    if (runningRows > 0) return; // the run in progress schedules again when it ends
    if (queue.length === 0) {
      clearTimer();
      notifyIdle();
      return;
    }
    const oldest = queue[0] as Pending;
    const waitLeft = oldest.enqueuedAt + maxWaitMs - now();
    if (draining || queue.length >= maxBatch || waitLeft <= 0) {
      clearTimer();
      void runNext();
      return;
    }
    if (timer === undefined) {
      timer = setTimeout(() => {
        timer = undefined;
        schedule();
      }, Math.ceil(waitLeft));
    }
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
    const taken = queue.splice(0, maxBatch);
    for (const p of taken) p.signal?.removeEventListener('abort', p.onAbort as () => void);
    const n = taken.length;
    runningRows = n;
    const input = new Float32Array(n * imageLength);
    taken.forEach((p, i) => input.set(p.row.input, i * imageLength));
    const start = now();
    const queueSeconds = taken.map((p) => (start - p.enqueuedAt) / 1000);
    const report: BatchReport = { size: n, inferenceSeconds: 0, stages: [], queueSeconds };
    try {
      const out = await runBatch(
        runtime,
        input,
        taken.map((p) => p.row.request),
      );
      report.inferenceSeconds = out.inferenceSeconds;
      report.stages = out.stages;
      const inferenceMs = out.inferenceSeconds * 1000;
      taken.forEach((p, i) => {
        const result = out.results[i];
        if (result === undefined) p.reject(new EeroError('INTERNAL', `batcher: no result for row ${i} of ${n}`));
        else p.resolve({ ...result, timings: { queueMs: (queueSeconds[i] as number) * 1000, inferenceMs, batchSize: n } });
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

  const refusal = (rows: number): EeroError | undefined => {
    if (draining)
      return new EeroError('SHUTTING_DOWN', 'the service is shutting down', {
        details: { retryAfterSeconds: options.retryAfterSeconds ?? 1 },
      });
    if (queue.length + rows > maxQueue) {
      return new EeroError(
        'OVERLOADED',
        `the queue of model ${runtime.name} is full (${queue.length} of ${maxQueue} images waiting); retry later`,
        {
          details: { queueDepth: queue.length, maxQueue, retryAfterSeconds: options.retryAfterSeconds ?? 1 },
        },
      );
    }
    return undefined;
  };

  const submit = (row: BatchRow, signal?: AbortSignal): Promise<BatchedResult> => {
    const refused = refusal(1);
    if (refused) return Promise.reject(refused);
    if (signal?.aborted) return Promise.reject(toEeroError(signal.reason, 'ABORTED'));
    if (!(row.input instanceof Float32Array) || row.input.length !== imageLength) {
      return Promise.reject(
        new EeroError('INTERNAL', `batcher: a row must be a Float32Array of ${imageLength} floats, got ${row.input?.length}`),
      );
    }
    return new Promise<BatchedResult>((resolve, reject) => {
      const pending: Pending = { row, enqueuedAt: now(), resolve, reject, signal, onAbort: undefined };
      if (signal) {
        // Gone before its batch started: drop it (it never reaches the engine or the ledger).
        pending.onAbort = () => {
          const at = queue.indexOf(pending);
          if (at < 0) return;
          queue.splice(at, 1);
          reject(toEeroError(signal.reason, 'ABORTED'));
          schedule();
        };
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      queue.push(pending);
      schedule();
    });
  };

  return {
    submit,
    checkCapacity(rows) {
      const refused = refusal(rows);
      if (refused) throw refused;
    },
    get depth() {
      return queue.length;
    },
    get running() {
      return runningRows;
    },
    drain() {
      draining = true;
      const idle = new Promise<void>((done) => idleWaiters.push(done));
      schedule();
      return idle;
    },
  };
}

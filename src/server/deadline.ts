import type { Response } from 'express';
import { EeroError } from '../errors';

export interface Deadline {
  /** Aborted with TIMEOUT after the limit, or ABORTED when the client goes away. */
  signal: AbortSignal;
  done(): void;
}

/** One request's time limit (limits.requestTimeoutMs) and client-gone signal; `done()` clears the timer. */
export function requestDeadline(res: Response, timeoutMs: number): Deadline {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(
      new EeroError('TIMEOUT', `the request took longer than ${timeoutMs} ms`, { details: { timeoutMs, retryAfterSeconds: 1 } }),
    );
  }, timeoutMs);
  const onClose = (): void => {
    clearTimeout(timer);
    if (!res.writableFinished) controller.abort(new EeroError('ABORTED', 'the client went away'));
  };
  res.once('close', onClose);
  return {
    signal: controller.signal,
    done() {
      clearTimeout(timer);
    },
  };
}

/** `work`, or the signal's reason as soon as it aborts (the work is then left to see the signal itself). */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

import { EeroError } from '../errors';

/**
 * Root finding for the monotone budget equations (EERO's mu, the geometric
 * rule's q). Works on a predicate so the caller decides which side is safe:
 * the result always satisfies `ok`, so the budget holds even if the
 * tolerance is loose.
 */

/** Bisect between `bad` (ok false) and `good` (ok true); returns a point where ok is true. */
export function bisect(ok: (x: number) => boolean, bad: number, good: number, relTol = 1e-13, maxIter = 200): number {
  for (let i = 0; i < maxIter; i++) {
    const mid = (bad + good) / 2;
    if (mid === bad || mid === good) break;
    if (Math.abs(good - bad) <= relTol * Math.max(Math.abs(good), Math.abs(bad))) break;
    if (ok(mid)) good = mid;
    else bad = mid;
  }
  return good;
}

/**
 * From a start where ok is false, step by doubling (start * 2^i, sign kept)
 * until ok holds; returns that point and the last failing one.
 */
export function bracketByDoubling(ok: (x: number) => boolean, start: number, maxSteps = 1100): { bad: number; good: number } {
  let bad = 0;
  let x = start;
  for (let i = 0; i < maxSteps && Number.isFinite(x); i++) {
    if (ok(x)) return { bad, good: x };
    bad = x;
    x *= 2;
  }
  throw new EeroError('INTERNAL', `could not bracket a root starting from ${start}`);
}

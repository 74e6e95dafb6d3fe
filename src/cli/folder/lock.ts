/**
 * A lock file beside the results (`<file>.lock`, holding the owner's pid):
 * one writer per results file. The lock appears whole or not at all (written
 * aside, then hard-linked into place), so a second run never reads a lock
 * that is still empty and takes it for a stale one. A stale lock (its run
 * was killed) is taken over under a short-lived `.takeover` lock, so two
 * runs that find the same stale lock cannot both take it.
 */
import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { EeroError } from '../../errors';

export interface Lock {
  release(): void;
}

/** A lock file that cannot be read as a pid is taken for one being written until it is this old. */
const UNREADABLE_GRACE_MS = 10_000;
/** A `.takeover` lock older than this was left by a run killed while taking over; it is removed. */
const TAKEOVER_GRACE_MS = 10_000;

let attempt = 0;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const errno = (e: unknown): string | undefined => (e as NodeJS.ErrnoException).code;

function ioError(what: string, e: unknown): EeroError {
  return new EeroError('IO_ERROR', `${what}: ${(e as Error).message}`, { cause: e });
}

function locked(file: string, lockFile: string, pid: number | undefined): EeroError {
  const who = pid === undefined ? 'another eero run' : `another eero run (pid ${pid})`;
  return new EeroError('RESULTS_LOCKED', `${file} is being written by ${who}; wait for it, or remove ${lockFile} if it is stale`, {
    details: { file, ...(pid === undefined ? {} : { pid }) },
  });
}

/** Hard-links `source` to `target`: true when done, false when `target` exists. */
function linkNew(source: string, target: string): boolean {
  try {
    linkSync(source, target);
    return true;
  } catch (e) {
    if (errno(e) === 'EEXIST') return false;
    throw ioError(`cannot create ${target}`, e);
  }
}

/** Milliseconds since the epoch, as file times are: Date.now, or a test's own clock. */
type Clock = () => number;

/** The lock as it is now: its inode, its owner's pid (undefined when unreadable) and age; undefined when gone. */
function inspect(lockFile: string, now: Clock = Date.now): { ino: number; pid: number | undefined; ageMs: number } | undefined {
  try {
    const s = statSync(lockFile);
    const pid = Number(readFileSync(lockFile, 'utf8').trim());
    return { ino: s.ino, pid: Number.isInteger(pid) && pid > 0 ? pid : undefined, ageMs: now() - s.mtimeMs };
  } catch (e) {
    if (errno(e) === 'ENOENT') return undefined;
    throw ioError(`cannot read ${lockFile}`, e);
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

/** Replaces the stale lock (inode `staleIno`) by ours, unless someone else did first. */
function takeOver(file: string, lockFile: string, mine: string, staleIno: number, now: Clock): void {
  const mutex = `${lockFile}.takeover`;
  if (!linkNew(mine, mutex)) {
    const age = inspect(mutex, now)?.ageMs ?? 0;
    if (age < TAKEOVER_GRACE_MS) throw locked(file, lockFile, undefined);
    unlinkQuietly(mutex);
    if (!linkNew(mine, mutex)) throw locked(file, lockFile, undefined);
  }
  try {
    // Only the lock we judged stale is removed: one put there meanwhile by a live run stays.
    if (inspect(lockFile)?.ino === staleIno) unlinkQuietly(lockFile);
    if (!linkNew(mine, lockFile)) throw locked(file, lockFile, inspect(lockFile)?.pid);
  } finally {
    unlinkQuietly(mutex);
  }
}

/** `now` decides the grace periods of unreadable and takeover locks (tests pin it). */
export function acquireLock(file: string, now: Clock = Date.now): Lock {
  const lockFile = `${file}.lock`;
  const mine = `${lockFile}.${process.pid}.${attempt++}`;
  let ours: number;
  try {
    writeFileSync(mine, `${process.pid}\n`, { flag: 'wx' });
    ours = statSync(mine).ino;
  } catch (e) {
    throw ioError(`cannot create ${mine}`, e);
  }
  try {
    if (!linkNew(mine, lockFile)) {
      const held = inspect(lockFile, now);
      if (held === undefined) {
        // Released between our attempt and our look: try once more.
        if (!linkNew(mine, lockFile)) throw locked(file, lockFile, inspect(lockFile)?.pid);
      } else if (held.pid !== undefined ? alive(held.pid) : held.ageMs < UNREADABLE_GRACE_MS) {
        throw locked(file, lockFile, held.pid);
      } else {
        takeOver(file, lockFile, mine, held.ino, now);
      }
    }
  } finally {
    unlinkQuietly(mine);
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      // Remove the lock only while it is still ours.
      if (inspect(lockFile)?.ino === ours) unlinkQuietly(lockFile);
    },
  };
}

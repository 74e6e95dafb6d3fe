/** One writer per results file: the lock's rules on its own (test/cli/folder.int.test.ts runs them through eero classify). */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { acquireLock } from '../../src/cli/folder/lock';

/** A pid no process can have (Linux caps pids at 2^22). */
const DEAD_PID = 2 ** 22 + 1;
const GRACE_MS = 10_000;

let dir: string;
let out: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'eero-lock-'));
  out = path.join(dir, 'r.csv');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A stopped clock `ms` after the file's last change: the lock's age is what the test says, however slow this machine is. */
function after(file: string, ms: number): () => number {
  const now = statSync(file).mtimeMs + ms;
  return () => now;
}

describe('the results lock', () => {
  test('a lock holding a live pid is refused with the pid, however old, and left in place', () => {
    writeFileSync(`${out}.lock`, `${process.pid}\n`);
    expect(() => acquireLock(out, after(`${out}.lock`, 100 * GRACE_MS))).toThrow(
      expect.objectContaining({ code: 'RESULTS_LOCKED', details: { file: out, pid: process.pid } }),
    );
    expect(readFileSync(`${out}.lock`, 'utf8')).toBe(`${process.pid}\n`);
  });

  test('a lock file not yet holding its pid is taken for a live one while younger than the grace period', () => {
    writeFileSync(`${out}.lock`, ''); // the instant between creating a lock and writing the pid into it
    expect(() => acquireLock(out, after(`${out}.lock`, GRACE_MS - 1))).toThrow(expect.objectContaining({ code: 'RESULTS_LOCKED' }));
    expect(readFileSync(`${out}.lock`, 'utf8')).toBe('');
  });

  test('past the grace period an unreadable lock is stale: taken over, then released', () => {
    writeFileSync(`${out}.lock`, '');
    const lock = acquireLock(out, after(`${out}.lock`, GRACE_MS + 1));
    expect(readFileSync(`${out}.lock`, 'utf8')).toBe(`${process.pid}\n`);
    lock.release();
    expect(existsSync(`${out}.lock`)).toBe(false);
  });

  test("a dead pid's lock is taken over, unless another run is taking it over (a young .takeover)", () => {
    writeFileSync(`${out}.lock`, `${DEAD_PID}\n`);
    writeFileSync(`${out}.lock.takeover`, `${DEAD_PID}\n`);
    expect(() => acquireLock(out, after(`${out}.lock.takeover`, GRACE_MS - 1))).toThrow(
      expect.objectContaining({ code: 'RESULTS_LOCKED' }),
    );
    expect(readFileSync(`${out}.lock`, 'utf8')).toBe(`${DEAD_PID}\n`);
    // A .takeover past the grace period was left by a run killed mid-way: removed, and the lock is ours.
    const lock = acquireLock(out, after(`${out}.lock.takeover`, GRACE_MS + 1));
    expect(readFileSync(`${out}.lock`, 'utf8')).toBe(`${process.pid}\n`);
    expect(existsSync(`${out}.lock.takeover`)).toBe(false);
    lock.release();
  });
});

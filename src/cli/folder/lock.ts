/** A lock file beside the results (`<file>.lock`, holding the owner's pid): one writer per results file. */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { EeroError } from '../../errors';

export interface Lock {
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireLock(file: string): Lock {
  const lockFile = `${file}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx' });
      let held = true;
      return {
        release() {
          if (!held) return;
          held = false;
          try {
            unlinkSync(lockFile);
          } catch {
            // already gone: nothing to release
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new EeroError('IO_ERROR', `cannot create ${lockFile}: ${(e as Error).message}`, { cause: e });
      const owner = Number(readFileSync(lockFile, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) {
        throw new EeroError('RESULTS_LOCKED', `${file} is being written by another eero run (pid ${owner}); wait for it, or remove ${lockFile} if it is stale`, {
          details: { file, pid: owner },
        });
      }
      // A stale lock (its run was killed): take it over.
      unlinkSync(lockFile);
    }
  }
  throw new EeroError('RESULTS_LOCKED', `${file}: could not take ${lockFile}`);
}

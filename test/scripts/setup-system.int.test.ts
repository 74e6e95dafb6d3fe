/**
 * scripts/setup-system.sh with stand-ins for apt-get and friends on PATH (a
 * child process; nothing is installed): it waits for another apt's locks
 * instead of failing, and does nothing when everything is there.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const SCRIPT = path.resolve(__dirname, '..', '..', 'scripts', 'setup-system.sh');

/** A folder of executables, each a small sh script. */
function binWith(scripts: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'eero-setup-'));
  for (const [name, body] of Object.entries(scripts)) {
    writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(path.join(dir, name), 0o755);
  }
  return dir;
}

function run(bin: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    // Only the stand-ins on PATH (bash is named by its path).
    execFile('/bin/bash', [SCRIPT], { env: { PATH: bin }, timeout: 120_000 }, (error, _stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stderr });
    });
  });
}

const common = (log: string): Record<string, string> => ({
  id: 'echo 0',
  sudo: 'exec "$@"',
  env: 'exec /usr/bin/env "$@"',
  dpkg: 'exit 0',
  sleep: `echo "sleep $*" >> ${log}`,
});

describe('setup-system.sh', () => {
  const made: string[] = [];
  afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

  test('waits for the apt locks: update is tried again while another apt holds its lock, install waits for dpkg (DPkg::Lock::Timeout)', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'eero-setup-log-'));
    made.push(work);
    const log = path.join(work, 'log');
    const tries = path.join(work, 'tries');
    // The first update fails as apt 2.6 does when another apt holds /var/lib/apt/lists/lock.
    const aptGet = [
      `echo "apt-get DEBIAN_FRONTEND=$DEBIAN_FRONTEND $*" >> ${log}`,
      'case "$*" in *update*)',
      `  if [ ! -e ${tries} ]; then : > ${tries}; echo "E: Could not get lock /var/lib/apt/lists/lock" >&2; exit 100; fi;;`,
      'esac',
      'exit 0',
    ].join('\n');
    const bin = binWith({ ...common(log), 'apt-get': aptGet });
    made.push(bin);
    const r = await run(bin);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringContaining('trying again in 10 s') as string });
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    // prometheus and docker-compose are not on this PATH, so they are installed.
    expect(lines).toEqual([
      'apt-get DEBIAN_FRONTEND=noninteractive -o DPkg::Lock::Timeout=600 update -qq',
      'sleep 10',
      'apt-get DEBIAN_FRONTEND=noninteractive -o DPkg::Lock::Timeout=600 update -qq',
      expect.stringMatching(
        /^apt-get DEBIAN_FRONTEND=noninteractive -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends .*prometheus docker-compose/,
      ),
    ]);
  });

  // Everything else the script checks is on this machine once `npm test` has run it (pretest).
  const installed = existsSync('/usr/bin/chromium') && existsSync('/usr/share/datasets/fashion-mnist');
  (installed ? test : test.skip)('does nothing when everything is installed: apt-get is never run', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'eero-setup-log-'));
    made.push(work);
    const log = path.join(work, 'log');
    const bin = binWith({ ...common(log), 'apt-get': `echo "apt-get $*" >> ${log}`, prometheus: 'exit 0', 'docker-compose': 'exit 0' });
    made.push(bin);
    const r = await run(bin);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(existsSync(log)).toBe(false);
  });
});

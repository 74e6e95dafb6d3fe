/**
 * Set up before each file of the unit project: a unit test that listens on
 * or connects to a socket, or starts a child process, fails with the reason,
 * so the split between the projects holds as tests are added. Such a test
 * belongs in a `*.int.test.ts` file (docs/testing.md). Undone after the file,
 * since a Jest worker runs files of both projects.
 */
// The modules themselves (not an import's copy of their exports), so that the patches reach every caller.
import childProcess = require('node:child_process');
import net = require('node:net');

type Patch = [target: object, key: string, original: unknown];

const patches: Patch[] = [];

function refuse(target: object, key: string, what: string): void {
  const original = (target as Record<string, unknown>)[key];
  patches.push([target, key, original]);
  Object.defineProperty(target, key, {
    configurable: true,
    writable: true,
    value: () => {
      throw new Error(`a unit test may not ${what}: name the file *.int.test.ts (docs/testing.md)`);
    },
  });
}

refuse(net.Server.prototype, 'listen', 'listen on a socket');
refuse(net.Socket.prototype, 'connect', 'open a socket');
for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
  refuse(childProcess, name, `start a child process (${name})`);
}

afterAll(() => {
  for (const [target, key, original] of patches.reverse()) {
    Object.defineProperty(target, key, { configurable: true, writable: true, value: original });
  }
});

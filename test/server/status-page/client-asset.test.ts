/**
 * Where the server finds the status page's bundled script (built by `npm run build`, which pretest runs), that it is
 * one script fit to inline, and what the server says when the build has not made it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { EeroError } from '../../../src/errors';
import { packageRoot, readStatusPageScript, STATUS_PAGE_BUNDLE } from '../../../src/server/status-page/client-asset';

test('the package root is the nearest folder above that holds package.json', () => {
  const root = packageRoot(__dirname);
  expect(root).toBe(join(__dirname, '..', '..', '..'));
  expect(existsSync(join(root as string, 'package.json'))).toBe(true);
  expect(packageRoot('/')).toBeUndefined();
});

test('a missing bundle is IO_ERROR naming its path and the command that builds it', () => {
  const path = join(__dirname, 'no-such-dir', STATUS_PAGE_BUNDLE);
  let thrown: unknown;
  try {
    readStatusPageScript(path);
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(EeroError);
  expect((thrown as EeroError).code).toBe('IO_ERROR');
  expect((thrown as EeroError).message).toContain(path);
  expect((thrown as EeroError).message).toContain('npm run build');
});

test('the built bundle is one script that parses, with nothing that would end its <script> element early', () => {
  const script = readStatusPageScript();
  expect(() => new Script(script)).not.toThrow();
  expect(script).not.toMatch(/<\/script|<!--/i);
  // Bundled: no module syntax left for the browser to resolve.
  expect(script).not.toMatch(/^\s*(import|export)\s/m);
});

/**
 * The page's browser code: TypeScript in client/, bundled at build time (scripts/build-status-page.ts, run by
 * `npm run build`) into one script under dist/, which the server reads at start-up and inlines. It is found
 * from the package root, so the same path serves dist/ (compiled), src/ (ts-jest) and the Docker image.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EeroError } from '../../errors';

/** Where the build writes the bundle, relative to the package root. */
export const STATUS_PAGE_BUNDLE = join('dist', 'status-page', 'client.js');

/** The nearest folder at or above `from` that holds package.json; undefined when there is none. */
export function packageRoot(from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** This package's bundle path. */
export function statusPageBundlePath(): string {
  return join(packageRoot(__dirname) ?? process.cwd(), STATUS_PAGE_BUNDLE);
}

/** The bundled script; a missing one is IO_ERROR naming the command that builds it. */
export function readStatusPageScript(path: string = statusPageBundlePath()): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new EeroError('IO_ERROR', `the status page's script ${path} cannot be read (build it with \`npm run build\`)`, { cause: e });
  }
}

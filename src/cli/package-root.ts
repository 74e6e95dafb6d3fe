/**
 * Paths inside the installed package (its bundled models/), so that the
 * defaults work from any directory, not only the repository root.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

let root: string | undefined;

/** The folder of the nearest package.json above this file (dist/src/cli or src/cli). */
export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) return (root = process.cwd());
    dir = up;
  }
  return (root = dir);
}

/** `rel` (e.g. DEFAULTS.modelPath) inside the package. */
export function packagePath(rel: string): string {
  return path.resolve(packageRoot(), rel);
}

/** The package's root folder (package.json, proto/), found from this file whether it runs from src/ (tests) or dist/src/. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

interface PackageJson {
  name?: string;
  version?: string;
}

let root: { dir: string; version: string } | undefined;

function find(): { dir: string; version: string } {
  for (let dir = __dirname; dirname(dir) !== dir; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as PackageJson;
    if (pkg.name === 'eero-serve') return { dir, version: pkg.version ?? '0.0.0' };
  }
  throw new Error(`no eero-serve package.json above ${__dirname}`);
}

export function packageRoot(): { dir: string; version: string } {
  root ??= find();
  return root;
}

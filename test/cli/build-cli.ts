/**
 * The CLI as plain JavaScript in a temporary folder, for tests that run it
 * as a child process (kill -9, a second concurrent run). Each source file is
 * transpiled on its own (no type check: `npm test` type-checks first), which
 * takes a second where `tsc -p tsconfig.json` into dist/ takes a minute on a
 * loaded machine, and leaves dist/ alone.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import ts from 'typescript';

const REPO = path.resolve(__dirname, '..', '..');

export interface BuiltCli {
  /** `node <main> classify ...` */
  main: string;
  remove(): void;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

export function buildCli(): BuiltCli {
  const out = mkdtempSync(path.join(tmpdir(), 'eero-cli-'));
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.CommonJS,
    target: ts.ScriptTarget.ES2022,
    esModuleInterop: true,
    resolveJsonModule: true,
    isolatedModules: true,
  };
  for (const file of sources(path.join(REPO, 'src'))) {
    const js = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: options, fileName: file }).outputText;
    const target = path.join(out, 'dist', path.relative(REPO, file)).replace(/\.ts$/, '.js');
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, js);
  }
  // Laid out as dist/ is: dependencies resolve from the repository's node_modules; `eero --version` reads ../../../package.json.
  symlinkSync(path.join(REPO, 'node_modules'), path.join(out, 'node_modules'), 'dir');
  copyFileSync(path.join(REPO, 'package.json'), path.join(out, 'package.json'));
  return { main: path.join(out, 'dist', 'src', 'cli', 'main.js'), remove: () => rmSync(out, { recursive: true, force: true }) };
}

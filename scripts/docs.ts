/**
 * `npm run docs`: rewrite the generated blocks of README.md and docs/*.md
 * (--help texts, options tables) from the code. `--check` only reports the
 * files that are out of date (exit 1), as the docs test does.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { regenerate } from '../src/cli/report/generated-docs';

const root = resolve(__dirname, '..', '..');
const check = process.argv.includes('--check');
const files = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f)),
];
const stale: string[] = [];
for (const file of files) {
  const path = join(root, file);
  const text = readFileSync(path, 'utf8');
  const next = regenerate(text);
  if (next === text) continue;
  stale.push(file);
  if (!check) writeFileSync(path, next);
}
process.stdout.write(stale.length ? `${check ? 'out of date' : 'rewrote'}: ${stale.join(', ')}\n` : 'docs up to date\n');
process.exitCode = check && stale.length ? 1 : 0;

// Ruff (lint + format check) over the Python toolkit, through ruff's WebAssembly build: PyPI is out of reach
// and Debian 12 ships no ruff, so the npm package is the one install that works offline.
//
//   node scripts/ruff.mjs            check: prints `file:row:col code message`, exits 1 on any finding
//   node scripts/ruff.mjs --format   writes ruff-formatted files, then checks
//   node scripts/ruff.mjs --fix      applies the fixes ruff offers, formats, then checks
//
// The settings are the `[tool.ruff]` tables of models/toolkit/pyproject.toml, the one place a Python
// developer looks for them. The WASM build lints one string at a time with no path, so settings that
// select by path (per-file-ignores, exclude...) cannot act here and are refused rather than ignored.
// It does not say which fixes ruff deems unsafe either: review `git diff` after --fix.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PositionEncoding, Workspace } from '@astral-sh/ruff-wasm-nodejs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TOOLKIT = path.join(ROOT, 'models', 'toolkit');
const PYPROJECT = path.join(TOOLKIT, 'pyproject.toml');
const SKIP_DIRS = new Set(['__pycache__', 'runs', 'node_modules']);
const PATH_SETTINGS = ['per-file-ignores', 'extend-per-file-ignores', 'exclude', 'extend-exclude', 'include', 'extend-include', 'src'];

/** Strips a `#` comment that is not inside a string. */
function stripComment(line) {
  let quote = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return line.slice(0, i);
  }
  return line;
}

/** A TOML value of the kinds ruff's settings use: string, integer, float, boolean, array of those. */
function parseValue(text, where) {
  const json = text.replace(/'([^'\\]*)'/g, (_, s) => JSON.stringify(s)).replace(/,\s*]/g, ']');
  try {
    return JSON.parse(json);
  } catch {
    throw new Error(`${where}: cannot read the value ${text} (scripts/ruff.mjs reads strings, numbers, booleans and arrays)`);
  }
}

/** The `[tool.ruff]` table of a pyproject.toml, its sub-tables nested (`[tool.ruff.lint]` as `lint`). */
function ruffSettings(toml, file = 'pyproject.toml') {
  const settings = {};
  let table = null; // the object keys go into; null outside tool.ruff
  let pending = null; // a multi-line array being read: { key, text, line }
  const lines = toml.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = stripComment(lines[n]).trim();
    if (pending) {
      pending.text += ' ' + line;
      if (balanced(pending.text)) {
        table[pending.key] = parseValue(pending.text, `${file}:${pending.line}`);
        pending = null;
      }
      continue;
    }
    if (line === '') continue;
    const header = /^\[([^\][]+)\]$/.exec(line);
    if (header) {
      const parts = header[1].split('.').map((p) => p.trim().replace(/^"(.*)"$/, '$1'));
      table = null;
      if (parts[0] === 'tool' && parts[1] === 'ruff') {
        table = settings;
        for (const p of parts.slice(2)) table = table[p] ??= {};
      }
      continue;
    }
    if (/^\[\[/.test(line)) {
      table = null;
      continue;
    }
    if (table === null) continue;
    const kv = /^("[^"]+"|[A-Za-z0-9_-]+)\s*=\s*(.+)$/.exec(line);
    if (!kv) throw new Error(`${file}:${n + 1}: cannot read this line of [tool.ruff]: ${line}`);
    const key = kv[1].replace(/^"(.*)"$/, '$1');
    if (balanced(kv[2])) table[key] = parseValue(kv[2], `${file}:${n + 1}`);
    else pending = { key, text: kv[2], line: n + 1 };
  }
  if (pending) throw new Error(`${file}:${pending.line}: unterminated array`);
  return settings;
}

function balanced(text) {
  const stripped = text.replace(/"([^"\\]|\\.)*"|'[^']*'/g, '');
  return (stripped.match(/\[/g) ?? []).length === (stripped.match(/]/g) ?? []).length;
}

function refusePathSettings(settings) {
  for (const table of [settings, settings.lint ?? {}, settings.format ?? {}]) {
    for (const key of PATH_SETTINGS) {
      if (key in table) throw new Error(`${PYPROJECT}: \`${key}\` selects by path, which ruff's WASM build cannot see; use # noqa`);
    }
  }
}

function pythonFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || SKIP_DIRS.has(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...pythonFiles(full));
    else if (entry.name.endsWith('.py')) out.push(full);
  }
  return out.sort();
}

/** Offset in `src` of a 1-based row and column counted in UTF-16 units (what PositionEncoding.Utf16 returns). */
function offsetOf(src, starts, { row, column }) {
  return starts[row - 1] + column - 1;
}

function lineStarts(src) {
  const starts = [0];
  for (let i = 0; i < src.length; i++) if (src[i] === '\n') starts.push(i + 1);
  starts.push(src.length);
  return starts;
}

/** Applies every non-overlapping fix ruff offers, repeating while fixes change the text (as `ruff --fix` loops). */
function applyFixes(ws, src) {
  let applied = 0;
  for (let round = 0; round < 10; round++) {
    const starts = lineStarts(src);
    const edits = ws
      .check(src)
      .filter((d) => d.fix)
      .flatMap((d) => d.fix.edits)
      .map((e) => ({ from: offsetOf(src, starts, e.location), to: offsetOf(src, starts, e.end_location), text: e.content ?? '' }))
      .sort((a, b) => b.from - a.from || b.to - a.to);
    let next = src;
    let floor = Infinity;
    let count = 0;
    for (const e of edits) {
      if (e.to > floor) continue; // overlaps an edit already applied: the next round sees it again
      next = next.slice(0, e.from) + e.text + next.slice(e.to);
      floor = e.from;
      count++;
    }
    if (count === 0 || next === src) break;
    src = next;
    applied += count;
  }
  return { src, applied };
}

function firstDifferentRow(a, b) {
  const x = a.split('\n');
  const y = b.split('\n');
  let i = 0;
  while (i < x.length && x[i] === y[i]) i++;
  return i + 1;
}

function main(argv) {
  const fix = argv.includes('--fix');
  const write = fix || argv.includes('--format');
  const unknown = argv.filter((a) => a !== '--fix' && a !== '--format');
  if (unknown.length > 0) {
    process.stderr.write(`ruff.mjs: unknown argument ${unknown[0]} (use --fix or --format)\n`);
    return 2;
  }
  const settings = ruffSettings(readFileSync(PYPROJECT, 'utf8'), path.relative(ROOT, PYPROJECT));
  refusePathSettings(settings);
  const ws = new Workspace(settings, PositionEncoding.Utf16);
  let findings = 0;
  const files = pythonFiles(TOOLKIT);
  for (const file of files) {
    const rel = path.relative(ROOT, file);
    let src = readFileSync(file, 'utf8');
    if (write) {
      const original = src;
      if (fix) ({ src } = applyFixes(ws, src));
      src = ws.format(src);
      if (src !== original) {
        writeFileSync(file, src);
        process.stderr.write(`ruff.mjs: rewrote ${rel}\n`);
      }
    }
    const diagnostics = ws
      .check(src)
      .sort((x, y) => x.start_location.row - y.start_location.row || x.start_location.column - y.start_location.column);
    for (const d of diagnostics) {
      findings++;
      process.stdout.write(`${rel}:${d.start_location.row}:${d.start_location.column} ${d.code ?? 'syntax'} ${d.message}\n`);
    }
    const formatted = ws.format(src);
    if (formatted !== src) {
      findings++;
      process.stdout.write(
        `${rel}:${firstDifferentRow(src, formatted)}:1 format would reformat this file (node scripts/ruff.mjs --format)\n`,
      );
    }
  }
  process.stderr.write(`ruff ${Workspace.version()}: ${files.length} files, ${findings} finding${findings === 1 ? '' : 's'}\n`);
  return findings === 0 ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`ruff.mjs: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  }
}

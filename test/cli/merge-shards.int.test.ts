/**
 * A folder split over a fleet and joined again, through the real CLI: 4
 * shards of `eero classify --shard i/4` run as 4 concurrent child processes
 * of dist/src/cli/main.js, then `eero merge` joins their part files. The
 * merge must equal one run over the whole folder (at a budget that does not
 * bind, so each shard's own ledger forces nothing one run would not), keep
 * the budget at one that does, and refuse what cannot be one result. The
 * shards at budget 1 are processes (what a fleet runs); the whole-folder
 * run, the shards at budget 0.5 and the merges run `main` in this process,
 * one after another, with its output captured.
 *
 * Needs dist/ (`npm test` runs tsc first; or `npx tsc -p tsconfig.json`).
 */
import { execFile } from 'node:child_process';
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { exitCodeFor } from '../../src/cli/exit-codes';
import { main } from '../../src/cli/main';
import { nameBytes } from '../../src/cli/folder/file-names';
import { formatOf, readRows, type StoredRow } from '../../src/cli/folder/row-format';
import { shardOf } from '../../src/cli/folder/shard';
import { RESNET_BUNDLE } from '../support/bundles';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
const suite = existsSync(CLI) ? describe : describe.skip;
const SHARDS = 4;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `eero ...args` as a child process of dist/. */
function eeroProcess(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, timeout: 240_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `eero ...args` in this process: main's exit code and what it wrote (one at a time: it captures this process's output). */
async function eero(args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

const rowsOf = (file: string): StoredRow[] => readRows(readFileSync(file, 'utf8'), formatOf(file)).rows;
const filesOf = (file: string): string[] => rowsOf(file).map((r) => r.file);

/** ~40 images in class-index folders: the 16 fixtures, their mirror images, 8 dimmed, and one corrupt file (an error row). */
async function makeFolder(dir: string): Promise<string[]> {
  const fixtures = path.join(RESNET_BUNDLE, 'fixtures');
  const labels = (JSON.parse(readFileSync(path.join(fixtures, 'logits.json'), 'utf8')) as { labels: number[] }).labels;
  const pngs = readdirSync(fixtures)
    .filter((f) => f.endsWith('.png'))
    .sort();
  const made: string[] = [];
  for (const [i, f] of pngs.entries()) {
    const folder = String(labels[i]);
    mkdirSync(path.join(dir, folder), { recursive: true });
    const src = path.join(fixtures, f);
    // From bytes: a service started earlier in this jest worker leaves sharp's file loaders blocked (process-wide).
    const bytes = readFileSync(src);
    const stem = path.basename(f, '.png');
    copyFileSync(src, path.join(dir, folder, f));
    await sharp(bytes)
      .flop()
      .png()
      .toFile(path.join(dir, folder, `${stem}-mirror.png`));
    made.push(`${folder}/${f}`, `${folder}/${stem}-mirror.png`);
    if (i < 8) {
      await sharp(bytes)
        .linear(0.85, 0)
        .png()
        .toFile(path.join(dir, folder, `${stem}-dim.png`));
      made.push(`${folder}/${stem}-dim.png`);
    }
  }
  const png = readFileSync(path.join(fixtures, pngs[0] as string));
  writeFileSync(path.join(dir, String(labels[0]), 'broken.png'), png.subarray(0, png.length >> 1));
  return [...made, `${String(labels[0])}/broken.png`].sort();
}

suite('eero merge: shards of a folder run as concurrent processes, joined', () => {
  let work: string;
  let images: string;
  let folderFiles: string[];
  const part = (budget: string, i: number, ext = 'jsonl'): string => path.join(work, `b${budget}`, `part-${i}.${ext}`);
  const classifyArgs = (budget: string, out: string, extra: string[]): string[] => [
    'classify',
    images,
    '--out',
    out,
    '--budget',
    budget,
    '--threads',
    '1',
    '--order',
    'sorted',
    '--model',
    RESNET_BUNDLE,
    ...extra,
  ];
  /** One shard, as a process of its own. */
  const shard = (budget: string, out: string, i: number): Promise<Run> =>
    eeroProcess(classifyArgs(budget, out, ['--shard', `${i}/${SHARDS}`]));
  const merge = (parts: string[], out: string, extra: string[] = []): Promise<Run> =>
    eero(['merge', ...parts, '--out', out, '--model', RESNET_BUNDLE, ...extra]);
  const expectOk = (r: Run): void => expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'eero-merge-'));
    images = path.join(work, 'images');
    folderFiles = await makeFolder(images);
    for (const b of ['1', '0.5']) mkdirSync(path.join(work, `b${b}`));
    // Budget 1: the 4 shards at once (4 processes), then one run over the whole folder.
    const first = await Promise.all(Array.from({ length: SHARDS }, (_, i) => shard('1', part('1', i), i)));
    first.forEach(expectOk);
    expectOk(await eero(classifyArgs('1', path.join(work, 'b1', 'single.jsonl'), [])));
    // Budget 0.5, where the ledger binds: two shards write JSONL, two CSV. Each run has a ledger of its own
    // (the processes above show the fleet; what is checked here is the budget kept by each shard's ledger).
    const ext = (i: number): string => (i < 2 ? 'jsonl' : 'csv');
    for (let i = 0; i < SHARDS; i++) expectOk(await eero(classifyArgs('0.5', part('0.5', i, ext(i)), ['--shard', `${i}/${SHARDS}`])));
  });

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('puts every file of the folder in exactly one shard, the one shardOf names', () => {
    expect(folderFiles.length).toBeGreaterThanOrEqual(40);
    const perShard = Array.from({ length: SHARDS }, (_, i) => filesOf(part('1', i)));
    expect(perShard.flat().sort()).toEqual(folderFiles);
    perShard.forEach((files, i) => {
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) expect(shardOf(nameBytes(f), SHARDS)).toBe(i);
    });
  });

  it('merges into rows equal to one run over the folder, copied as the parts wrote them, with the fleet summary', async () => {
    const parts = Array.from({ length: SHARDS }, (_, i) => part('1', i));
    const out = path.join(work, 'b1', 'merged.jsonl');
    const r = await merge(parts, out, ['--folder', images]);
    expectOk(r);
    const merged = rowsOf(out);
    expect(merged.map((m) => m.text).join('')).toBe(parts.map((p) => readFileSync(p, 'utf8')).join(''));
    const key = (rows: StoredRow[]): Array<[string, unknown]> =>
      rows
        .map((row): [string, unknown] => {
          const o = JSON.parse(row.text) as { label?: string; exit?: number; error?: { code: string } };
          return [row.file, { label: o.label, exit: o.exit, classIndex: row.classIndex, macs: row.macs, error: o.error?.code }];
        })
        .sort((a, b) => (a[0] < b[0] ? -1 : 1));
    expect(key(merged)).toEqual(key(rowsOf(path.join(work, 'b1', 'single.jsonl'))));
    expect(r.stdout).toContain(`${folderFiles.length} images (1 errors) from ${SHARDS} shards`);
    expect(r.stdout).toMatch(
      /realised average cost [\d.]+% of the full model over \d+ answered images .*budget 100\.00%: within the budget/,
    );
    expect(r.stdout).toMatch(/accuracy [\d.]+% on \d+ images labelled by their folder/);
    expect(r.stdout).toContain(`every file under ${images} is in exactly one shard`);
    expect(r.stdout).toMatch(/\| exit \| images \| share % \|/);
    for (const p of parts) expect(r.stdout).toContain(`| ${p} |`);
  });

  it('keeps the budget across the fleet where it binds, joining JSONL and CSV parts into either format', async () => {
    const parts = Array.from({ length: SHARDS }, (_, i) => part('0.5', i, i < 2 ? 'jsonl' : 'csv'));
    const meanCost = (rows: StoredRow[]): number => {
      const good = rows.filter((row) => !row.error);
      return good.reduce((s, row) => s + (row.costFraction ?? 0), 0) / good.length;
    };
    // The folder is hard enough that 0.5 binds: unconstrained (budget 1), images cost more than that on average.
    expect(meanCost(Array.from({ length: SHARDS }, (_, i) => rowsOf(part('1', i))).flat())).toBeGreaterThan(0.5);
    const csv = path.join(work, 'b0.5', 'merged.csv');
    const jsonl = path.join(work, 'b0.5', 'merged.jsonl');
    const [toCsv, toJsonl] = [await merge(parts, csv), await merge(parts, jsonl)];
    expectOk(toCsv);
    expectOk(toJsonl);
    for (const out of [csv, jsonl]) {
      const rows = rowsOf(out);
      expect(rows.map((row) => row.file).sort()).toEqual(folderFiles);
      expect(rows.filter((row) => !row.error)).toHaveLength(folderFiles.length - 1);
      expect(new Set(rows.map((row) => `${row.model}@${row.budget}`))).toEqual(new Set(['resnet18-fmnist@0.5']));
      // Each shard's strict ledger keeps its spend <= B x its images, so the sum does too (rows keep 6 places).
      expect(meanCost(rows)).toBeLessThanOrEqual(0.5 + 1e-6);
      // Converted or copied, each row says what its part said.
      const fromParts = new Map(parts.flatMap((p) => rowsOf(p)).map((row) => [row.file, row]));
      const facts = (row: StoredRow): unknown[] => [row.file, row.exit, row.classIndex, row.macs, row.costFraction, row.error];
      for (const row of rows) expect(facts(row)).toEqual(facts(fromParts.get(row.file) as StoredRow));
    }
    expect(toCsv.stdout).toMatch(/budget 50\.00%: within the budget/);
  });

  it('converts JSONL to CSV and back without changing a row, except top-k probabilities to CSV`s 4 places', async () => {
    const single = path.join(work, 'b1', 'single.jsonl');
    const csv = path.join(work, 'b1', 'single.csv');
    const back = path.join(work, 'b1', 'back.jsonl');
    expectOk(await merge([single], csv));
    expectOk(await merge([csv], back));
    type Row = { topk?: Array<{ label: string; probability: number }> } & Record<string, unknown>;
    const read = (file: string): Row[] =>
      readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Row);
    const rounded = read(single).map((o) => ({
      ...o,
      topk: o.topk?.map((t) => ({ ...t, probability: Number(t.probability.toFixed(4)) })),
    }));
    expect(read(back)).toEqual(rounded);
  });

  it('refuses parts of another budget or model, naming both parts and their values, and writes nothing', async () => {
    const out = path.join(work, 'refused.jsonl');
    const budgets = await merge([part('1', 0), part('0.5', 1), part('1', 2), part('1', 3)], out);
    expect(budgets.code).toBe(exitCodeFor('MERGE_CONFLICT'));
    expect(budgets.stderr).toContain(part('1', 0));
    expect(budgets.stderr).toContain(part('0.5', 1));
    expect(budgets.stderr).toMatch(/at budget 0\.5.*at budget 1\b/);
    expect(budgets.stderr).toContain('[MERGE_CONFLICT]');
    const other = path.join(work, 'other-model.jsonl');
    writeFileSync(other, readFileSync(part('1', 2), 'utf8').replace(/"model":"resnet18-fmnist"/g, '"model":"convnext-fmnist"'));
    const models = await merge([part('1', 0), part('1', 1), other, part('1', 3)], out);
    expect(models.code).toBe(exitCodeFor('MERGE_CONFLICT'));
    expect(models.stderr).toMatch(/other-model\.jsonl:1 holds results of model convnext-fmnist .* model resnet18-fmnist/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('checks every row against the manifest: exit 99, negative MACs, a wrong cost fraction or an unknown label is refused, naming part and line', async () => {
    const out = path.join(work, 'refused.jsonl');
    const source = part('1', 2);
    const lines = readFileSync(source, 'utf8').split('\n');
    const at = lines.findIndex((l) => l !== '' && !l.includes('"error"'));
    const edits: Array<[string, (o: Record<string, unknown>) => void, RegExp]> = [
      ['exit', (o) => (o.exit = 99), /exit 99 is not an exit of resnet18-fmnist \(1\.\.8\)/],
      ['macs', (o) => (o.macs = -5), /macs -5 is not the cost of exit/],
      ['cost', (o) => (o.cost_fraction = 0.99), /cost_fraction 0\.99 is not exit \d's share/],
      ['label', (o) => (o.label = 'Hat'), /label "Hat" is not a class of resnet18-fmnist/],
    ];
    for (const [name, edit, message] of edits) {
      const bad = path.join(work, `bad-${name}.jsonl`);
      const o = JSON.parse(lines[at] as string) as Record<string, unknown>;
      edit(o);
      writeFileSync(bad, [...lines.slice(0, at), JSON.stringify(o), ...lines.slice(at + 1)].join('\n'));
      const r = await merge([part('1', 0), part('1', 1), bad, part('1', 3)], out);
      expect(r.code).toBe(exitCodeFor('BAD_PARAMETER'));
      expect(r.stderr).toContain(`${bad}:${at + 1}: `);
      expect(r.stderr).toMatch(message);
    }
    expect(existsSync(out)).toBe(false);
  });

  it('refuses parts made with another score or rule, naming what differs', async () => {
    const out = path.join(work, 'refused.jsonl');
    const other = path.join(work, 'other-score.jsonl');
    writeFileSync(other, readFileSync(part('1', 1), 'utf8').replace(/"score":"margin"/g, '"score":"entropy"'));
    const r = await merge([part('1', 0), other, part('1', 2), part('1', 3)], out);
    expect(r.code).toBe(exitCodeFor('MERGE_CONFLICT'));
    expect(r.stderr).toMatch(/other-score\.jsonl:1 holds results of .*score entropy.* \(score entropy \(the other: margin\)\)/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a file in two parts, naming it and both parts', async () => {
    const out = path.join(work, 'refused.jsonl');
    const first = rowsOf(part('1', 0))[0] as StoredRow;
    const dup = path.join(work, 'dup.jsonl');
    writeFileSync(dup, readFileSync(part('1', 3), 'utf8') + first.text);
    const r = await merge([part('1', 0), part('1', 1), part('1', 2), dup], out);
    expect(r.code).toBe(exitCodeFor('MERGE_CONFLICT'));
    expect(r.stderr).toContain(`${first.file} is in both ${part('1', 0)} and ${dup}`);
    const twice = await merge([part('1', 0), part('1', 0)], out);
    expect(twice.code).toBe(exitCodeFor('BAD_PARAMETER'));
    expect(existsSync(out)).toBe(false);
  });

  it('notices a file in no part only when given the folder, and refuses a torn part', async () => {
    const out = path.join(work, 'partial.jsonl');
    const three = [part('1', 0), part('1', 1), part('1', 2)];
    const missing = await merge(three, out, ['--folder', images]);
    expect(missing.code).toBe(exitCodeFor('MERGE_INCOMPLETE'));
    expect(missing.stderr).toContain(`${filesOf(part('1', 3)).length} files of the folder are in no shard`);
    expect(existsSync(out)).toBe(false);
    // Without the folder the merge cannot know: it joins what is there.
    expectOk(await merge(three, out));
    const torn = path.join(work, 'torn.jsonl');
    copyFileSync(part('1', 3), torn);
    appendFileSync(torn, '{"file":"0/torn');
    const r = await merge([...three, torn], path.join(work, 'torn-merge.jsonl'));
    expect(r.code).toBe(exitCodeFor('MERGE_INCOMPLETE'));
    expect(r.stderr).toContain('ends in a torn row');
  });
});

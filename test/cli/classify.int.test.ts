import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, copyFileSync, readdirSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { classifyCommand } from '../../src/cli/commands/classify';
import { flatPng } from '../preprocess/images';
import { RESNET_BUNDLE } from '../support/bundles';

const fixtureDir = path.join(RESNET_BUNDLE, 'fixtures');
const pngs = readdirSync(fixtureDir)
  .filter((f) => f.endsWith('.png'))
  .sort();
const labels = (JSON.parse(readFileSync(path.join(fixtureDir, 'logits.json'), 'utf8')) as { labels: number[] }).labels;

/** A folder like a user's: images in class-index subfolders, plus a corrupt image and a text file. */
function makeFolder(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'eero-classify-'));
  pngs.forEach((f, i) => {
    mkdirSync(path.join(root, String(labels[i])), { recursive: true });
    copyFileSync(path.join(fixtureDir, f), path.join(root, String(labels[i]), f));
  });
  const png = readFileSync(path.join(fixtureDir, pngs[0]!));
  writeFileSync(path.join(root, 'broken.png'), png.subarray(0, png.length >> 1));
  writeFileSync(path.join(root, 'notes.txt'), 'not an image');
  return root;
}

async function run(args: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await classifyCommand.run(args), stdout };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

const csvRows = (file: string): string[][] =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));

describe('eero classify <folder>', () => {
  const common = ['--model', RESNET_BUNDLE, '--threads', '1', '--batch', '5'];

  it('writes one row per file, bad files as error rows, and a summary with exits per head', async () => {
    const root = makeFolder();
    const out = path.join(root, 'results.csv');
    const { code, stdout } = await run([root, ...common, '--out', out, '--all-files', '--budget', '0.5']);
    expect(code).toBe(0);
    const rows = csvRows(out);
    expect(rows).toHaveLength(pngs.length + 2);
    const byFile = new Map(rows.map((r) => [r[0], r]));
    expect(byFile.get('broken.png')?.[9]).toBe('CORRUPT_IMAGE');
    expect(byFile.get('notes.txt')?.[9]).toBe('NOT_AN_IMAGE');
    const good = rows.filter((r) => r[9] === '');
    expect(good).toHaveLength(pngs.length);
    for (const r of good) expect(Number(r[4])).toBeGreaterThanOrEqual(1);
    expect(stdout).toMatch(/images\/s/);
    expect(stdout).toMatch(/realised average cost [\d.]+% of the full model/);
    expect(stdout).toMatch(/accuracy [\d.]+% on \d+ images labelled by their folder/);
  });

  it('resumes: a second run skips files already in the output and appends the rest', async () => {
    const root = makeFolder();
    const out = path.join(root, 'results.jsonl');
    await run([root, ...common, '--out', out]);
    const first = readFileSync(out, 'utf8').trim().split('\n');
    // Simulate an interrupted run: drop the last 3 rows and leave a torn line behind.
    const kept = first.slice(0, first.length - 3);
    writeFileSync(out, kept.join('\n') + '\n');
    appendFileSync(out, '{"file":"3/torn');
    const { code } = await run([root, ...common, '--out', out]);
    expect(code).toBe(0);
    const second = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { file: string });
    expect(second).toHaveLength(first.length);
    expect(new Set(second.map((r) => r.file)).size).toBe(first.length);
  });

  it('routes by the accuracy-target rule with --accuracy-target, and refuses a target out of range', async () => {
    const root = makeFolder();
    const out = path.join(root, 'target.csv');
    const meanCost = (file: string): number => {
      const good = csvRows(file).filter((r) => r[9] === '');
      expect(good).toHaveLength(pngs.length);
      return good.reduce((sum, r) => sum + Number(r[6]), 0) / good.length;
    };
    expect((await run([root, ...common, '--out', out, '--budget', '1', '--accuracy-target', '0.999'])).code).toBe(0);
    const loose = path.join(root, 'loose.csv');
    expect((await run([root, ...common, '--out', loose, '--budget', '1', '--accuracy-target', '0.8'])).code).toBe(0);
    // A stricter agreement target raises every threshold, so images leave later.
    expect(meanCost(out)).toBeGreaterThan(meanCost(loose));
    await expect(run([root, ...common, '--out', out, '--fresh', '--accuracy-target', '1.5'])).rejects.toMatchObject({
      code: 'BAD_PARAMETER',
    });
  });

  it('refuses a budget below the cheapest exit with exit code and message', async () => {
    const root = makeFolder();
    const err = await run([root, ...common, '--out', path.join(root, 'r.csv'), '--budget', '0.01']).catch((e: unknown) => e);
    expect((err as { code: string }).code).toBe('BUDGET_INFEASIBLE');
  });

  it('a decompression bomb in the folder (a 1 x 40,000,000 PNG of 78 KB) becomes a TOO_MANY_PIXELS error row, refused from its header', async () => {
    const root = makeFolder();
    writeFileSync(path.join(root, 'bomb.png'), flatPng(1, 40_000_000));
    const out = path.join(root, 'results.jsonl');
    const { code } = await run([root, ...common, '--out', out]);
    expect(code).toBe(0);
    const rows = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { file: string; error?: { code: string; message: string } });
    expect(rows.find((r) => r.file === 'bomb.png')?.error).toEqual({
      code: 'TOO_MANY_PIXELS',
      message: 'The image is 1x40000000; no side may be longer than 16384 pixels.',
    });
    expect(rows.filter((r) => r.error === undefined)).toHaveLength(pngs.length);
  });

  it('rejects a wrong output extension and a non-numeric batch before loading anything', async () => {
    await expect(run(['x', '--out', 'r.txt'])).rejects.toMatchObject({ code: 'BAD_PARAMETER' });
    await expect(run(['x', '--batch', 'lots'])).rejects.toMatchObject({ code: 'BAD_PARAMETER' });
  });
});

/**
 * The folder CLI never loses or duplicates a row: odd file names round-trip
 * through CSV and JSONL resume, unreadable folders and broken links become
 * error rows, symlinks are followed once, one writer per results file, a
 * resume with other settings is refused, error rows can be retried, and a
 * run killed with SIGKILL resumes with every file exactly once.
 *
 * The tests about a second process run dist/src/cli/main.js (`npm test` builds it first).
 */
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { classifyCommand } from '../../src/cli/commands/classify';
import { exitCodeFor, EXIT_UNEXPECTED } from '../../src/cli/exit-codes';
import { parseCsv } from '../../src/cli/folder/csv';
import { nameBytes } from '../../src/cli/folder/file-names';
import { acquireLock } from '../../src/cli/folder/lock';
import { main } from '../../src/cli/main';
import type { ErrorCode } from '../../src/errors';
import { CONVNEXT_BUNDLE, RESNET_BUNDLE } from '../support/bundles';

const FIXTURES = path.join(RESNET_BUNDLE, 'fixtures');
const PNGS = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.png'))
  .sort()
  .map((f) => readFileSync(path.join(FIXTURES, f)));
const png = (i: number): Buffer => PNGS[i % PNGS.length] as Buffer;
const COMMON = ['--model', RESNET_BUNDLE, '--threads', '1', '--order', 'sorted'];
const CLI = path.resolve(__dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');

const made: string[] = [];
function tmpFolder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'eero-folder-'));
  made.push(dir);
  return dir;
}
afterAll(() => {
  // `rm -rf` copes with paths longer than PATH_MAX (the unreadable-folder test makes one); chmod first for a non-root run.
  for (const dir of made) {
    spawnSync('chmod', ['-R', 'u+rwx', dir]);
    spawnSync('rm', ['-rf', dir]);
  }
});

let stderr = '';
beforeEach(() => {
  stderr = '';
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
});
afterEach(() => jest.restoreAllMocks());

const classify = (root: string, out: string, ...flags: string[]): Promise<number> =>
  classifyCommand.run([root, ...COMMON, '--batch', '4', '--out', out, ...flags]);

interface Row {
  file: string;
  error: string | undefined;
  label: string | undefined;
  model: string;
  budget: number;
}

/** The complete rows (a row still being written by another process is left out). */
function readRows(out: string): Row[] {
  const text = readFileSync(out, 'utf8');
  if (out.endsWith('.jsonl')) {
    return text
      .slice(0, text.lastIndexOf('\n') + 1)
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const o = JSON.parse(l) as { file: string; error?: { code: string }; label?: string; model: string; budget: number };
        return { file: o.file, error: o.error?.code, label: o.label, model: o.model, budget: o.budget };
      });
  }
  const [head, ...records] = parseCsv(text).map((r) => r.cells);
  const col = (name: string): number => (head as string[]).indexOf(name);
  return records.map((c) => ({
    file: c[col('file')] as string,
    error: c[col('error_code')] || undefined,
    label: c[col('label')] || undefined,
    model: c[col('model')] as string,
    budget: Number(c[col('budget')]),
  }));
}

/** Each file (as bytes relative to the root) with its number of rows. */
function rowsPerFile(out: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of readRows(out)) {
    const key = nameBytes(r.file).toString('hex');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function expectEachOnce(out: string, names: Buffer[]): void {
  const counts = rowsPerFile(out);
  const expected = new Map(names.map((n) => [n.toString('hex'), 1]));
  expect([...counts.entries()].sort()).toEqual([...expected.entries()].sort());
}

describe('file names', () => {
  const odd = [
    'new\nline.png',
    'com,ma.png',
    'quo"te.png',
    'per%cent.png',
    'per%25cent.png',
    '%FF.png',
    'crlf\r\n.png',
    ' lead space.png',
    'émoji 🙂.png',
  ].map((n) => Buffer.from(n));
  const invalid = [Buffer.from([0x62, 0xff, 0xfe, 0x2e, 0x70, 0x6e, 0x67]), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x70, 0x6e, 0x67])];
  const names = [...odd, ...invalid];

  it.each(['csv', 'jsonl'])('a newline, comma, quote, %% and invalid UTF-8 round-trip through %s resume', async (format) => {
    const root = tmpFolder();
    names.forEach((n, i) => writeFileSync(Buffer.concat([Buffer.from(root + path.sep), n]), png(i)));
    const out = path.join(tmpFolder(), `results.${format}`);
    expect(await classify(root, out)).toBe(0);
    expectEachOnce(out, names);
    expect(readRows(out).every((r) => r.error === undefined && r.label !== undefined)).toBe(true);
    // A second run adds nothing.
    const before = readFileSync(out);
    expect(await classify(root, out)).toBe(0);
    expect(readFileSync(out).equals(before)).toBe(true);
    expect(stderr).toContain(`(${names.length} already in`);
    // An interrupted run (its last rows lost): the resume adds exactly those.
    dropLastRows(out, 3);
    expect(readRows(out)).toHaveLength(names.length - 3);
    expect(await classify(root, out)).toBe(0);
    expectEachOnce(out, names);
  });
});

/** Cuts the last `k` rows off a results file, as an interrupted run leaves it. */
function dropLastRows(out: string, k: number): void {
  const text = readFileSync(out, 'utf8');
  if (out.endsWith('.jsonl')) {
    const lines = text.split('\n').filter(Boolean);
    writeFileSync(out, lines.slice(0, -k).join('\n') + '\n');
  } else {
    const records = parseCsv(text);
    writeFileSync(out, text.slice(0, (records[records.length - 1 - k] as { end: number }).end));
  }
}

describe('folders and links', () => {
  /** A subfolder readdir refuses: chmod 000, or for root (whom chmod does not stop) a path longer than PATH_MAX. */
  function unreadableFolder(root: string): Buffer {
    const plain = path.join(root, 'locked');
    mkdirSync(plain);
    writeFileSync(path.join(plain, 'inside.png'), png(0));
    chmodSync(plain, 0o000);
    try {
      readdirSync(plain);
    } catch {
      return Buffer.from('locked');
    }
    chmodSync(plain, 0o755);
    rmSync(plain, { recursive: true });
    // Built one level at a time, relative to the last (a child process, so this one's cwd stays): no call sees the whole path.
    const segment = 'd'.repeat(250);
    const depth = Math.ceil(4200 / (segment.length + 1));
    const build = `const fs = require('fs'); process.chdir(process.argv[1]);
      for (let i = 0; i < ${depth}; i++) { fs.mkdirSync('${segment}'); process.chdir('${segment}'); }
      fs.writeFileSync('deep.png', '');`;
    execFileSync(process.execPath, ['-e', build, root]);
    // The first level whose path (root + rel) is too long for the kernel is the one reported.
    let rel = '';
    while (Buffer.byteLength(path.join(root, rel, segment)) < 4096) rel = path.join(rel, segment);
    return Buffer.from(path.join(rel, segment));
  }

  it('an unreadable subfolder becomes an error row and the run goes on', async () => {
    const root = tmpFolder();
    writeFileSync(path.join(root, 'a.png'), png(0));
    writeFileSync(path.join(root, 'z.png'), png(1));
    const locked = unreadableFolder(root);
    const out = path.join(tmpFolder(), 'r.csv');
    expect(await classify(root, out)).toBe(0);
    expectEachOnce(out, [Buffer.from('a.png'), Buffer.from('z.png'), locked]);
    const row = readRows(out).find((r) => nameBytes(r.file).equals(locked));
    expect(row?.error).toBe('IO_ERROR');
  });

  it('follows links to images and folders once, ends loops, and reports a broken link as an error row', async () => {
    const root = tmpFolder();
    const outside = tmpFolder();
    writeFileSync(path.join(outside, 'far.png'), png(0));
    mkdirSync(path.join(root, 'z-real'));
    writeFileSync(path.join(root, 'z-real', 'x.png'), png(1));
    writeFileSync(path.join(root, 'plain.png'), png(2));
    symlinkSync(path.join(root, 'plain.png'), path.join(root, 'alias.png')); // a link to an image: followed, its own row
    symlinkSync(path.join(root, 'z-real'), path.join(root, 'a-link')); // a folder inside the root: walked once, as z-real
    symlinkSync(outside, path.join(root, 'outside')); // a folder outside the root: walked through the link
    symlinkSync('..', path.join(root, 'z-real', 'up')); // a loop back to the root
    symlinkSync('self.png', path.join(root, 'self.png')); // a link to itself
    symlinkSync(path.join(root, 'nowhere.png'), path.join(root, 'gone.png')); // broken
    const out = path.join(tmpFolder(), 'r.jsonl');
    // A walk that did not end the loop would hang (Jest's timeout) or list files twice (expectEachOnce).
    expect(await classify(root, out)).toBe(0);
    const names = ['alias.png', 'gone.png', 'outside/far.png', 'plain.png', 'self.png', 'z-real/x.png'];
    expectEachOnce(
      out,
      names.map((n) => Buffer.from(n)),
    );
    const errors = Object.fromEntries(readRows(out).map((r) => [r.file, r.error]));
    expect(errors).toEqual({
      'alias.png': undefined,
      'gone.png': 'IO_ERROR',
      'outside/far.png': undefined,
      'plain.png': undefined,
      'self.png': 'IO_ERROR',
      'z-real/x.png': undefined,
    });
  });

  it('gives a FIFO, a socket and a link to a FIFO an error row (NOT_AN_IMAGE) without opening them; --all-files: any special file', async () => {
    const root = tmpFolder();
    writeFileSync(path.join(root, 'plain.png'), png(0));
    execFileSync('mkfifo', [path.join(root, 'pipe.png'), path.join(root, 'pipe-no-extension')]);
    symlinkSync(path.join(root, 'pipe.png'), path.join(root, 'to-pipe.png'));
    const { createServer } = await import('node:net');
    const socket = createServer();
    await new Promise<void>((r) => socket.listen(path.join(root, 'sock.png'), r));
    try {
      const out = path.join(tmpFolder(), 'r.jsonl');
      // Opening a FIFO with no writer would wait forever: finishing at all is part of the check.
      expect(await classify(root, out)).toBe(0);
      const errors = Object.fromEntries(readRows(out).map((r) => [r.file, r.error]));
      expect(errors).toEqual({
        'pipe.png': 'NOT_AN_IMAGE',
        'plain.png': undefined,
        'sock.png': 'NOT_AN_IMAGE',
        'to-pipe.png': 'NOT_AN_IMAGE',
      });
      const all = path.join(tmpFolder(), 'all.jsonl');
      expect(await classify(root, all, '--all-files')).toBe(0);
      expect(readRows(all).find((r) => r.file === 'pipe-no-extension')?.error).toBe('NOT_AN_IMAGE');
      expect(readFileSync(all, 'utf8')).toMatch(/named pipe \(FIFO\), not a regular file/);
    } finally {
      await new Promise((r) => socket.close(r));
    }
  });
});

describe('one writer per results file', () => {
  function folderOf(n: number): string {
    const root = tmpFolder();
    for (let i = 0; i < n; i++) writeFileSync(path.join(root, `${String(i).padStart(4, '0')}.png`), png(i));
    return root;
  }
  const namesOf = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => Buffer.from(`${String(i).padStart(4, '0')}.png`));

  it('a run while the lock is held is refused (RESULTS_LOCKED) and writes nothing', async () => {
    const root = folderOf(3);
    const out = path.join(tmpFolder(), 'r.csv');
    const held = acquireLock(out); // this process is alive: the lock is live
    try {
      await expect(classify(root, out)).rejects.toMatchObject({ code: 'RESULTS_LOCKED' });
      expect(existsSync(out)).toBe(false);
    } finally {
      held.release();
    }
    expect(await classify(root, out)).toBe(0);
    expectEachOnce(out, namesOf(3));
    expect(existsSync(`${out}.lock`)).toBe(false);
  });

  it('a stale lock (its pid is dead) is taken over', async () => {
    const root = folderOf(3);
    const out = path.join(tmpFolder(), 'r.jsonl');
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(`${out}.lock`, `${dead}\n`);
    expect(await classify(root, out)).toBe(0);
    expectEachOnce(out, namesOf(3));
    expect(existsSync(`${out}.lock`)).toBe(false);
  });

  const childSuite = existsSync(CLI) ? describe : describe.skip;
  childSuite(`with the CLI as a child process${existsSync(CLI) ? '' : ' [skipped: needs dist/ (npm run build)]'}`, () => {
    /** Starts `eero classify` in a child; resolves once its results file has `rows` data rows. */
    function startChild(root: string, out: string, rows: number): { child: ReturnType<typeof spawn>; ready: Promise<void> } {
      const args = [CLI, 'classify', root, ...COMMON, '--batch', '1', '--out', out];
      const child = spawn(process.execPath, args, { stdio: 'ignore' });
      const ready = new Promise<void>((resolve, reject) => {
        const timer = setInterval(() => {
          if (existsSync(out) && readRows(out).length >= rows) {
            clearInterval(timer);
            resolve();
          }
        }, 10);
        child.once('exit', (code) => {
          clearInterval(timer);
          reject(new Error(`the child exited (${code}) before writing ${rows} rows`));
        });
      });
      return { child, ready };
    }
    const exited = (child: ReturnType<typeof spawn>): Promise<NodeJS.Signals | number | null> =>
      new Promise((resolve) =>
        child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code, signal) => resolve(signal ?? code)),
      );

    // The child is paused (SIGSTOP) or killed a few rows in: 40 files leave it mid-way however fast this machine is.
    it('a second run while another writes is refused, and no row is duplicated', async () => {
      const n = 40;
      const root = folderOf(n);
      const out = path.join(tmpFolder(), 'r.csv');
      const { child, ready } = startChild(root, out, 2);
      await ready;
      // Paused, the first run is still alive and mid-way however fast this machine is.
      child.kill('SIGSTOP');
      try {
        await expect(classify(root, out)).rejects.toMatchObject({ code: 'RESULTS_LOCKED' });
        expect(readRows(out).length).toBeLessThan(n);
      } finally {
        child.kill('SIGCONT');
      }
      expect(await exited(child)).toBe(0);
      expectEachOnce(out, namesOf(n));
    });

    it('a run killed with SIGKILL mid-run resumes with every file exactly once', async () => {
      const n = 40;
      const root = folderOf(n);
      const out = path.join(tmpFolder(), 'r.jsonl');
      const { child, ready } = startChild(root, out, 3);
      await ready;
      child.kill('SIGKILL');
      expect(await exited(child)).toBe('SIGKILL');
      const before = readRows(out).length;
      expect(before).toBeLessThan(n);
      expect(readFileSync(`${out}.lock`, 'utf8').trim()).toBe(String(child.pid)); // left behind by the killed run
      expect(await classify(root, out)).toBe(0);
      expectEachOnce(out, namesOf(n));
    });
  });
});

describe('resume checks', () => {
  function folder(): string {
    const root = tmpFolder();
    for (let i = 0; i < 3; i++) writeFileSync(path.join(root, `${i}.png`), png(i));
    return root;
  }

  it('refuses another --budget or --model (RESULTS_MISMATCH) unless --fresh; rows record model and budget', async () => {
    const root = folder();
    const out = path.join(tmpFolder(), 'r.csv');
    expect(await classify(root, out, '--budget', '0.5')).toBe(0);
    expect(readRows(out).map((r) => [r.model, r.budget])).toEqual(Array(3).fill(['resnet18-fmnist', 0.5]));
    unlinkSync(path.join(root, '2.png')); // so a resume would have little to do: the refusal must come first
    const before = readFileSync(out);
    await expect(classify(root, out, '--budget', '0.6')).rejects.toMatchObject({ code: 'RESULTS_MISMATCH' });
    await expect(
      classifyCommand.run([root, '--model', CONVNEXT_BUNDLE, '--threads', '1', '--out', out, '--budget', '0.5']),
    ).rejects.toMatchObject({
      code: 'RESULTS_MISMATCH',
    });
    expect(readFileSync(out).equals(before)).toBe(true);
    expect(await classify(root, out, '--budget', '0.6', '--fresh')).toBe(0);
    expect(readRows(out).map((r) => [r.model, r.budget])).toEqual(Array(2).fill(['resnet18-fmnist', 0.6]));
  });

  it('refuses a resume with another --score, rule or --cost-unit, saying what differs; rows record rule, score and cost unit', async () => {
    const root = folder();
    const out = path.join(tmpFolder(), 'r.jsonl');
    expect(await classify(root, out)).toBe(0);
    const first = JSON.parse(readFileSync(out, 'utf8').split('\n')[0] as string) as Record<string, unknown>;
    expect([first.rule, first.score, first.cost_unit]).toEqual(['eero beta 0.04', 'margin', 'macs']);
    unlinkSync(path.join(root, '2.png'));
    const before = readFileSync(out);
    await expect(classify(root, out, '--score', 'entropy')).rejects.toMatchObject({
      code: 'RESULTS_MISMATCH',
      message: expect.stringMatching(/line 1\); this run differs in score entropy \(the other: margin\); .*--fresh/),
    });
    await expect(classify(root, out, '--agreement', '0.99', '--delta', '0.05')).rejects.toMatchObject({
      code: 'RESULTS_MISMATCH',
      message: expect.stringMatching(/differs in rule certified agreement 0\.99 delta 0\.05 \(the other: eero beta 0\.04\)/),
    });
    await expect(classify(root, out, '--cost-unit', 'seconds')).rejects.toMatchObject({
      code: 'RESULTS_MISMATCH',
      message: expect.stringMatching(/differs in cost unit seconds \(the other: macs\)/),
    });
    expect(readFileSync(out).equals(before)).toBe(true);
    expect(exitCodeFor('RESULTS_MISMATCH')).toBe(11);
    // The same settings resume.
    expect(await classify(root, out)).toBe(0);
  });

  it('refuses to resume a CSV written without the rule, score and cost unit columns (an older eero), untouched', async () => {
    const root = folder();
    const out = path.join(tmpFolder(), 'old.csv');
    const old =
      'file,label,class_index,probability,exit,macs,cost_fraction,forced,topk,error_code,error_message,stopped_by,model,budget\n' +
      '0.png,Trouser,1,0.9,3,13255296,0.38139,false,Trouser:0.9000,,,confidence,resnet18-fmnist,0.5\n';
    writeFileSync(out, old);
    await expect(classify(root, out)).rejects.toMatchObject({ code: 'RESULTS_MISMATCH', message: expect.stringMatching(/another header/) });
    expect(readFileSync(out, 'utf8')).toBe(old);
  });

  it('--retry-errors reprocesses error rows: the fixed file gets one row, no longer an error', async () => {
    const root = folder();
    writeFileSync(path.join(root, 'bad.png'), png(0).subarray(0, 40));
    const out = path.join(tmpFolder(), 'r.jsonl');
    expect(await classify(root, out)).toBe(0);
    expect(readRows(out).find((r) => r.file === 'bad.png')?.error).toBe('CORRUPT_IMAGE');
    writeFileSync(path.join(root, 'bad.png'), png(3));
    // A plain resume keeps the error row (the file has one).
    expect(await classify(root, out)).toBe(0);
    expect(
      readRows(out)
        .filter((r) => r.file === 'bad.png')
        .map((r) => r.error),
    ).toEqual(['CORRUPT_IMAGE']);
    expect(await classify(root, out, '--retry-errors')).toBe(0);
    const rows = readRows(out);
    expect(rows.filter((r) => r.file === 'bad.png').map((r) => r.error)).toEqual([undefined]);
    expectEachOnce(
      out,
      ['0.png', '1.png', '2.png', 'bad.png'].map((n) => Buffer.from(n)),
    );
  });
});

describe('exit codes', () => {
  async function capture(argv: string[]): Promise<{ code: number; err: string }> {
    const code = await main(argv);
    return { code, err: stderr };
  }

  it('eero models <missing> exits non-zero and says what is missing and what is there', async () => {
    const { code, err } = await capture(['models', '/nonexistent/bundle']);
    expect(code).toBe(exitCodeFor('MODEL_FILE_MISSING'));
    expect(code).not.toBe(0);
    expect(err).toMatch(/\/nonexistent\/bundle does not exist/);
    expect(err).toMatch(/bundles in \S*models: .*resnet18-fmnist/);
  });

  it('eero models <name> finds a bundle by its name in --dir', async () => {
    expect((await capture(['models', 'resnet18-fmnist'])).code).toBe(0);
  });

  it('maps every error a CLI run can meet to its own exit code', () => {
    const codes: ErrorCode[] = ['RESULTS_LOCKED', 'RESULTS_MISMATCH', 'ADDRESS_IN_USE', 'BUDGET_ABOVE_LIMIT', 'GUARANTEE_INFEASIBLE'];
    for (const c of codes) expect([c, exitCodeFor(c)]).not.toEqual([c, EXIT_UNEXPECTED]);
    expect(exitCodeFor('RESULTS_LOCKED')).not.toBe(exitCodeFor('RESULTS_MISMATCH'));
  });
});

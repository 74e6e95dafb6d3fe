/**
 * The results of a folder run, CSV or JSON Lines, append-only: each batch's
 * rows go out in one write(2), so an interrupted run leaves whole rows (a torn
 * last one is cut when the run resumes). Every row records the model and the
 * budget, so a resume with other ones is refused, and a lock file keeps a
 * second writer out.
 */
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync, writeSync, ftruncateSync, fstatSync } from 'node:fs';
import * as path from 'node:path';
import { EeroError } from '../../errors';
import { csvLine, parseCsv } from './csv';
import { acquireLock, type Lock } from './lock';

/** One output row: an image's answer or its error. */
export interface ResultRow {
  file: string;
  label?: string;
  classIndex?: number;
  probability?: number;
  exit?: number;
  macs?: number;
  costFraction?: number;
  forced?: boolean;
  topk?: Array<{ label: string; probability: number }>;
  errorCode?: string;
  errorMessage?: string;
  stoppedBy?: string;
  model: string;
  /** The budget of the run, as a fraction of the full model. */
  budget: number;
}

export type ResultsFormat = 'csv' | 'jsonl';

export const CSV_COLUMNS = [
  'file',
  'label',
  'class_index',
  'probability',
  'exit',
  'macs',
  'cost_fraction',
  'forced',
  'topk',
  'error_code',
  'error_message',
  'stopped_by',
  'model',
  'budget',
] as const;

const r6 = (x: number | undefined): number | undefined => (x === undefined ? undefined : Number(x.toFixed(6)));

export function formatRow(row: ResultRow, format: ResultsFormat): string {
  if (format === 'jsonl') {
    return (
      JSON.stringify({
        file: row.file,
        label: row.label,
        class_index: row.classIndex,
        probability: r6(row.probability),
        exit: row.exit,
        macs: row.macs,
        cost_fraction: r6(row.costFraction),
        forced: row.forced,
        stopped_by: row.stoppedBy,
        topk: row.topk?.map((t) => ({ label: t.label, probability: r6(t.probability) })),
        error: row.errorCode ? { code: row.errorCode, message: row.errorMessage } : undefined,
        model: row.model,
        budget: row.budget,
      }) + '\n'
    );
  }
  const topk = row.topk?.map((t) => `${t.label}:${t.probability.toFixed(4)}`).join(';');
  return csvLine([
    row.file,
    row.label,
    row.classIndex,
    r6(row.probability),
    row.exit,
    row.macs,
    r6(row.costFraction),
    row.forced,
    topk,
    row.errorCode,
    row.errorMessage,
    row.stoppedBy,
    row.model,
    row.budget,
  ]);
}

/** A row as read back: the fields resume and merge need. */
export interface StoredRow {
  file: string;
  model: string;
  budget: number;
  error: boolean;
  /** The row's text, to copy it as it is. */
  text: string;
  exit?: number;
  macs?: number;
  costFraction?: number;
  classIndex?: number;
}

function parseJsonRow(line: string): StoredRow | undefined {
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    if (typeof o.file !== 'string') return undefined;
    const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
    return {
      file: o.file,
      model: typeof o.model === 'string' ? o.model : '',
      budget: Number(o.budget),
      error: o.error !== undefined && o.error !== null,
      text: line + '\n',
      exit: num(o.exit),
      macs: num(o.macs),
      costFraction: num(o.cost_fraction),
      classIndex: num(o.class_index),
    };
  } catch {
    return undefined;
  }
}

/** The complete rows of a results file's text, and where the complete part ends. */
export function readRows(text: string, format: ResultsFormat): { rows: StoredRow[]; end: number } {
  if (format === 'jsonl') {
    const end = text.lastIndexOf('\n') + 1;
    const rows = text
      .slice(0, end)
      .split('\n')
      .filter(Boolean)
      .map(parseJsonRow)
      .filter((r): r is StoredRow => r !== undefined);
    return { rows, end };
  }
  const records = parseCsv(text);
  const col = (name: (typeof CSV_COLUMNS)[number]): number => CSV_COLUMNS.indexOf(name);
  let start = 0;
  const rows = records.slice(1).map((r, i) => {
    const begin = (records[i] as { end: number }).end;
    start = r.end;
    const n = (name: (typeof CSV_COLUMNS)[number]): number | undefined => (r.cells[col(name)] ? Number(r.cells[col(name)]) : undefined);
    return {
      file: r.cells[0] ?? '',
      model: r.cells[col('model')] ?? '',
      budget: Number(r.cells[col('budget')]),
      error: (r.cells[col('error_code')] ?? '') !== '',
      text: text.slice(begin, r.end),
      exit: n('exit'),
      macs: n('macs'),
      costFraction: n('cost_fraction'),
      classIndex: n('class_index'),
    };
  });
  return { rows, end: records.length > 0 ? Math.max(start, (records[0] as { end: number }).end) : 0 };
}

export function formatOf(file: string): ResultsFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  throw new EeroError('BAD_PARAMETER', `--out must end in .csv or .jsonl, got ${file}`);
}

export interface OpenOptions {
  /** Start over instead of resuming. */
  fresh: boolean;
  /** Drop error rows on resume, so their files run again. */
  retryErrors: boolean;
  /** What this run records; a resume with other values is refused. */
  model: string;
  budget: number;
}

export class ResultsFile {
  private constructor(
    readonly format: ResultsFormat,
    /** Files already answered (text names), skipped by this run. */
    readonly done: Set<string>,
    private readonly fd: number,
    private readonly lock: Lock,
  ) {}

  static open(file: string, options: OpenOptions): ResultsFile {
    const format = formatOf(file);
    const lock = acquireLock(file);
    try {
      const done = options.fresh || !existsSync(file) ? fresh(file, format) : resume(file, format, options);
      const fd = openSync(file, 'a');
      return new ResultsFile(format, done, fd, lock);
    } catch (e) {
      lock.release();
      if (e instanceof EeroError) throw e;
      throw new EeroError('IO_ERROR', `cannot open ${file}: ${(e as Error).message}`, { cause: e });
    }
  }

  write(rows: ResultRow[]): void {
    if (rows.length === 0) return;
    writeSync(this.fd, rows.map((r) => formatRow(r, this.format)).join(''));
  }

  close(): void {
    closeSync(this.fd);
    this.lock.release();
  }
}

function fresh(file: string, format: ResultsFormat): Set<string> {
  writeFileSync(file, format === 'csv' ? CSV_COLUMNS.join(',') + '\n' : '');
  return new Set();
}

function resume(file: string, format: ResultsFormat, options: OpenOptions): Set<string> {
  const text = readFileSync(file, 'utf8');
  if (text.trim() === '') return fresh(file, format);
  const { rows, end } = readRows(text, format);
  const other = rows.find((r) => r.model !== options.model || Math.abs(r.budget - options.budget) > 1e-9);
  if (other) {
    throw new EeroError(
      'RESULTS_MISMATCH',
      `${file} holds results of model ${other.model} at budget ${other.budget}, this run is ${options.model} at ${options.budget}; ` +
        'resume with the same --model and --budget, or start over with --fresh',
      { details: { file, model: other.model, budget: other.budget } },
    );
  }
  const kept = options.retryErrors ? rows.filter((r) => !r.error) : rows;
  if (kept.length !== rows.length) {
    // Rewrite without the error rows (atomically), so their files get one row each once they run again.
    const head = format === 'csv' ? CSV_COLUMNS.join(',') + '\n' : '';
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, head + kept.map((r) => r.text).join(''));
    renameSync(temporary, file);
  } else {
    const fd = openSync(file, 'r+');
    // Cut a torn last row (a kill -9 mid-write); whole rows stay.
    if (fstatSync(fd).size !== Buffer.byteLength(text.slice(0, end))) ftruncateSync(fd, Buffer.byteLength(text.slice(0, end)));
    closeSync(fd);
  }
  return new Set(kept.map((r) => r.file));
}

import { closeSync, existsSync, openSync, readFileSync, writeSync, ftruncateSync, fstatSync } from 'node:fs';
import * as path from 'node:path';
import { EeroError } from '../../errors';

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
}

export type ResultsFormat = 'csv' | 'jsonl';

const CSV_COLUMNS = [
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
] as const;

function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function formatRow(row: ResultRow, format: ResultsFormat): string {
  const r = (x: number | undefined, d: number): number | undefined => (x === undefined ? undefined : Number(x.toFixed(d)));
  if (format === 'jsonl') {
    return (
      JSON.stringify({
        file: row.file,
        label: row.label,
        class_index: row.classIndex,
        probability: r(row.probability, 6),
        exit: row.exit,
        macs: row.macs,
        cost_fraction: r(row.costFraction, 6),
        forced: row.forced,
        topk: row.topk?.map((t) => ({ label: t.label, probability: r(t.probability, 6) })),
        error: row.errorCode ? { code: row.errorCode, message: row.errorMessage } : undefined,
      }) + '\n'
    );
  }
  const topk = row.topk?.map((t) => `${t.label}:${t.probability.toFixed(4)}`).join(';');
  const cells = [
    row.file,
    row.label,
    row.classIndex,
    r(row.probability, 6),
    row.exit,
    row.macs,
    r(row.costFraction, 6),
    row.forced,
    topk,
    row.errorCode,
    row.errorMessage,
  ];
  return cells.map(csvCell).join(',') + '\n';
}

/** Parse the `file` column of the rows already written (CSV: first cell, quoted or not). */
function doneFiles(text: string, format: ResultsFormat): Set<string> {
  const done = new Set<string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line || (format === 'csv' && i === 0)) continue;
    if (format === 'jsonl') {
      try {
        const obj = JSON.parse(line) as { file?: unknown };
        if (typeof obj.file === 'string') done.add(obj.file);
      } catch {
        // A torn line: the resume truncation below removed it; ignore defensively.
      }
    } else if (line.startsWith('"')) {
      const m = /^"((?:[^"]|"")*)"/.exec(line);
      if (m?.[1] !== undefined) done.add(m[1].replace(/""/g, '"'));
    } else {
      done.add(line.slice(0, line.indexOf(',') === -1 ? undefined : line.indexOf(',')));
    }
  }
  return done;
}

/**
 * An append-only results file. Each row is written whole with one write(2),
 * so an interrupted run leaves only complete rows (a torn last line from a
 * kill -9 is cut off when the run resumes).
 */
export class ResultsFile {
  readonly format: ResultsFormat;
  readonly done: Set<string>;
  private fd: number;

  private constructor(fd: number, format: ResultsFormat, done: Set<string>) {
    this.fd = fd;
    this.format = format;
    this.done = done;
  }

  static formatOf(file: string): ResultsFormat {
    const ext = path.extname(file).toLowerCase();
    if (ext === '.csv') return 'csv';
    if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
    throw new EeroError('BAD_PARAMETER', `--out must end in .csv or .jsonl, got ${file}`);
  }

  /** Open for appending; with `resume`, rows already present are reported in `done`. */
  static open(file: string, resume: boolean): ResultsFile {
    const format = ResultsFile.formatOf(file);
    let done = new Set<string>();
    let fd: number;
    try {
      if (resume && existsSync(file)) {
        const text = readFileSync(file, 'utf8');
        const cut = text.endsWith('\n') || text === '' ? text.length : text.lastIndexOf('\n') + 1;
        fd = openSync(file, 'r+');
        ftruncateSync(fd, Buffer.byteLength(text.slice(0, cut)));
        done = doneFiles(text.slice(0, cut), format);
        closeSync(fd);
        fd = openSync(file, 'a');
      } else {
        fd = openSync(file, 'w');
      }
    } catch (e) {
      throw new EeroError('IO_ERROR', `cannot open ${file}: ${(e as Error).message}`, { cause: e });
    }
    const out = new ResultsFile(fd, format, done);
    if (format === 'csv' && fstatSync(fd).size === 0) writeSync(fd, CSV_COLUMNS.join(',') + '\n');
    return out;
  }

  write(rows: ResultRow[]): void {
    if (rows.length === 0) return;
    writeSync(this.fd, rows.map((r) => formatRow(r, this.format)).join(''));
  }

  close(): void {
    closeSync(this.fd);
  }
}

/**
 * The rows of a results file, CSV or JSON Lines: written by formatRow, read
 * back by readRows (by resume and merge). Every row records what made it
 * (run-settings.ts).
 */
import * as path from 'node:path';
import { EeroError } from '../../errors';
import { csvLine, parseCsv } from './csv';
import type { RunSettings } from './run-settings';

/** One output row: an image's answer or its error, and what made it. */
export interface ResultRow extends RunSettings {
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
  'rule',
  'score',
  'cost_unit',
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
        rule: row.rule,
        score: row.score,
        cost_unit: row.costUnit,
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
    row.rule,
    row.score,
    row.costUnit,
  ]);
}

/** A row as read back: the fields resume and merge need. */
export interface StoredRow extends RunSettings {
  file: string;
  /** Its first line in the file (1-based), to name it in an error. */
  line: number;
  error: boolean;
  errorCode?: string;
  /** The row's text, to copy it as it is. */
  text: string;
  label?: string;
  exit?: number;
  macs?: number;
  costFraction?: number;
  classIndex?: number;
}

function parseJsonRow(line: string, at: number): StoredRow | undefined {
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    if (typeof o.file !== 'string') return undefined;
    const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
    const str = (v: unknown): string => (typeof v === 'string' ? v : '');
    const error = typeof o.error === 'object' && o.error !== null ? (o.error as Record<string, unknown>) : undefined;
    return {
      file: o.file,
      line: at,
      model: str(o.model),
      budget: Number(o.budget),
      rule: str(o.rule),
      score: str(o.score),
      costUnit: str(o.cost_unit),
      error: o.error !== undefined && o.error !== null,
      ...(error ? { errorCode: str(error.code) } : {}),
      text: line + '\n',
      ...(typeof o.label === 'string' ? { label: o.label } : {}),
      exit: num(o.exit),
      macs: num(o.macs),
      costFraction: num(o.cost_fraction),
      classIndex: num(o.class_index),
    };
  } catch {
    return undefined;
  }
}

type Column = (typeof CSV_COLUMNS)[number];

/** The complete rows of a results file's text, and where the complete part ends. */
export function readRows(text: string, format: ResultsFormat): { rows: StoredRow[]; end: number } {
  if (format === 'jsonl') {
    const end = text.lastIndexOf('\n') + 1;
    const rows = text
      .slice(0, end)
      .split('\n')
      .map((l, i) => (l === '' ? undefined : parseJsonRow(l, i + 1)))
      .filter((r): r is StoredRow => r !== undefined);
    return { rows, end };
  }
  const records = parseCsv(text);
  let start = 0;
  let line = 1;
  const rows = records.slice(1).map((r, i) => {
    const begin = (records[i] as { end: number }).end;
    // A quoted cell may hold line breaks: count those of the record before.
    for (let k = records[i - 1]?.end ?? 0; k < begin; k++) if (text.charCodeAt(k) === 10) line++;
    start = r.end;
    const cell = (name: Column): string => r.cells[CSV_COLUMNS.indexOf(name)] ?? '';
    const n = (name: Column): number | undefined => (cell(name) ? Number(cell(name)) : undefined);
    return {
      file: r.cells[0] ?? '',
      line,
      model: cell('model'),
      budget: Number(cell('budget')),
      rule: cell('rule'),
      score: cell('score'),
      costUnit: cell('cost_unit'),
      error: cell('error_code') !== '',
      ...(cell('error_code') ? { errorCode: cell('error_code') } : {}),
      text: text.slice(begin, r.end),
      ...(cell('label') ? { label: cell('label') } : {}),
      exit: n('exit'),
      macs: n('macs'),
      costFraction: n('cost_fraction'),
      classIndex: n('class_index'),
    };
  });
  return { rows, end: records.length > 0 ? Math.max(start, (records[0] as { end: number }).end) : 0 };
}

/** The CSV header this eero writes; a file with another was written by another version. */
export const CSV_HEADER = CSV_COLUMNS.join(',');

export function formatOf(file: string): ResultsFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  throw new EeroError('BAD_PARAMETER', `--out must end in .csv or .jsonl, got ${file}`);
}

/**
 * A stored row in the other results format. The row is read back into a
 * ResultRow and written again by formatRow, so both formats keep one writer.
 * JSONL to CSV loses what CSV never holds (top-k probabilities past 4 places);
 * CSV to JSONL gives what the CSV row says.
 */
import { EeroError } from '../../errors';
import { parseCsv } from '../folder/csv';
import { CSV_COLUMNS, formatRow, type ResultRow, type ResultsFormat, type StoredRow } from '../folder/row-format';

type Column = (typeof CSV_COLUMNS)[number];

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function fromJson(text: string): ResultRow {
  const o = JSON.parse(text) as Record<string, unknown>;
  const error = typeof o.error === 'object' && o.error !== null ? (o.error as Record<string, unknown>) : undefined;
  const topk = Array.isArray(o.topk)
    ? (o.topk as Array<Record<string, unknown>>).map((t) => ({ label: String(t.label), probability: Number(t.probability) }))
    : undefined;
  return {
    file: str(o.file) ?? '',
    label: str(o.label),
    classIndex: num(o.class_index),
    probability: num(o.probability),
    exit: num(o.exit),
    macs: num(o.macs),
    costFraction: num(o.cost_fraction),
    forced: typeof o.forced === 'boolean' ? o.forced : undefined,
    stoppedBy: str(o.stopped_by),
    topk,
    errorCode: str(error?.code),
    errorMessage: str(error?.message),
    model: str(o.model) ?? '',
    budget: Number(o.budget),
    rule: str(o.rule) ?? '',
    score: str(o.score) ?? '',
    costUnit: str(o.cost_unit) ?? '',
  };
}

/** "label:0.9000;label:0.0500"; a label is everything before its last colon. */
function parseTopk(cell: string): ResultRow['topk'] {
  if (cell === '') return undefined;
  return cell.split(';').map((part) => {
    const at = part.lastIndexOf(':');
    return { label: part.slice(0, at), probability: Number(part.slice(at + 1)) };
  });
}

function fromCsv(text: string): ResultRow {
  const cells = parseCsv(text)[0]?.cells ?? [];
  const cell = (name: Column): string => cells[CSV_COLUMNS.indexOf(name)] ?? '';
  const n = (name: Column): number | undefined => (cell(name) === '' ? undefined : Number(cell(name)));
  const s = (name: Column): string | undefined => (cell(name) === '' ? undefined : cell(name));
  return {
    file: cell('file'),
    label: s('label'),
    classIndex: n('class_index'),
    probability: n('probability'),
    exit: n('exit'),
    macs: n('macs'),
    costFraction: n('cost_fraction'),
    forced: cell('forced') === '' ? undefined : cell('forced') === 'true',
    stoppedBy: s('stopped_by'),
    topk: parseTopk(cell('topk')),
    errorCode: s('error_code'),
    errorMessage: s('error_message'),
    model: cell('model'),
    budget: Number(cell('budget')),
    rule: cell('rule'),
    score: cell('score'),
    costUnit: cell('cost_unit'),
  };
}

/** The row's text in `to`: as it is when the formats agree, else rewritten by formatRow. */
export function rowText(row: StoredRow, from: ResultsFormat, to: ResultsFormat): string {
  if (from === to) return row.text;
  try {
    return formatRow(from === 'jsonl' ? fromJson(row.text) : fromCsv(row.text), to);
  } catch (e) {
    throw new EeroError('BAD_PARAMETER', `cannot convert the row of ${row.file}: ${(e as Error).message}`, { cause: e });
  }
}

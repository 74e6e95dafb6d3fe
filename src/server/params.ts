/** Classification controls from a query string, form fields or v2 `parameters`, checked once. */
import { EeroError } from '../errors';
import { SCORE_KINDS, type ScoreKind } from '../router';

export interface ClassifyParams {
  model: string | undefined;
  /** Raw budget as given (a fraction, "50%", or MACs); parsed by the budget chooser. */
  budget: string | undefined;
  topk: number | undefined;
  trace: boolean;
  score: ScoreKind | undefined;
}

export type RawParams = Record<string, unknown>;

const KNOWN = ['model', 'budget', 'topk', 'trace', 'score'] as const;
export const DEFAULT_TOPK = 5;

/** One value per name: a string, a number or a boolean; a repeated query name is refused. */
function single(raw: RawParams, name: string): string | undefined {
  const v = raw[name];
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) throw new EeroError('BAD_PARAMETER', `parameter "${name}" is given more than once`);
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new EeroError('BAD_PARAMETER', `parameter "${name}" must be a string, number or boolean`);
}

function parseTopk(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(v) || v < 1 || v > 1000) {
    throw new EeroError('BAD_PARAMETER', `topk must be an integer from 1 to 1000, got ${JSON.stringify(raw)}`, { details: { topk: raw } });
  }
  return v;
}

function parseTrace(raw: string | undefined): boolean {
  if (raw === undefined) return false;
  const v = raw.trim().toLowerCase();
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false' || v === '') return false;
  throw new EeroError('BAD_PARAMETER', `trace must be 1, 0, true or false, got ${JSON.stringify(raw)}`);
}

function parseScore(raw: string | undefined): ScoreKind | undefined {
  if (raw === undefined) return undefined;
  if (!(SCORE_KINDS as readonly string[]).includes(raw)) {
    throw new EeroError('BAD_PARAMETER', `score must be one of ${SCORE_KINDS.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return raw as ScoreKind;
}

/** Later sources win (e.g. form fields over the query string). Unknown names are ignored. */
export function parseClassifyParams(...sources: RawParams[]): ClassifyParams {
  const merged: RawParams = {};
  for (const s of sources) for (const k of KNOWN) if (s[k] !== undefined) merged[k] = s[k];
  const budget = single(merged, 'budget');
  if (budget !== undefined && budget.trim() === '') throw new EeroError('BAD_PARAMETER', 'budget is empty');
  return {
    model: single(merged, 'model'),
    budget,
    topk: parseTopk(single(merged, 'topk')),
    trace: parseTrace(single(merged, 'trace')),
    score: parseScore(single(merged, 'score')),
  };
}

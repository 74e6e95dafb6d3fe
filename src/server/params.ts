/** Classification controls from a query string, form fields or v2 `parameters`, checked once (routing: pipeline's toRoutingRequest). */
import { DEFAULTS } from '../config';
import { EeroError } from '../errors';
import { paramName, toRoutingRequest, type RoutingRequest } from '../pipeline';

export interface ClassifyParams {
  model: string | undefined;
  topk: number;
  /** True when the client named topk (v2 then adds the top-k outputs). */
  topkGiven: boolean;
  trace: boolean;
  routing: RoutingRequest;
}

export type RawParams = Record<string, unknown>;

/** Every parameter name we read; others are ignored (clients add their own). */
const ROUTING = {
  budget: 'budget',
  score: 'score',
  beta: 'beta',
  accuracy_target: 'accuracyTarget',
  agreement: 'agreement',
  accuracy_drop: 'accuracyDrop',
  delta: 'delta',
  deadline_ms: 'deadlineMs',
} as const;
const KNOWN = ['model', 'topk', 'trace', ...Object.keys(ROUTING)];

/** One value per name: a string, a number or a boolean; a name given twice (query or form) is refused. */
function single(raw: RawParams, name: string): string | undefined {
  const v = raw[name];
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v))
    throw new EeroError('BAD_PARAMETER', `parameter "${name}" is given more than once`, { details: { parameter: name } });
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new EeroError('BAD_PARAMETER', `parameter "${name}" must be a string, number or boolean`, { details: { parameter: name } });
}

function parseTopk(raw: string | undefined): number {
  if (raw === undefined) return DEFAULTS.topk;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(v) || v < 1 || v > 1000) {
    throw new EeroError('BAD_PARAMETER', `topk must be an integer from 1 to 1000, got ${JSON.stringify(raw)}`, {
      details: { parameter: 'topk' },
    });
  }
  return v;
}

function parseTrace(raw: string | undefined): boolean {
  if (raw === undefined) return false;
  const v = raw.trim().toLowerCase();
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false' || v === '') return false;
  throw new EeroError('BAD_PARAMETER', `trace must be 1, 0, true or false, got ${JSON.stringify(raw)}`, {
    details: { parameter: 'trace' },
  });
}

/** Sources in order (e.g. the query string, then form fields); a name given in two sources is refused too. */
export function parseClassifyParams(...sources: RawParams[]): ClassifyParams {
  const merged: RawParams = {};
  for (const s of sources) {
    for (const k of KNOWN) {
      if (s[k] === undefined) continue;
      merged[k] = merged[k] === undefined ? s[k] : [merged[k], s[k]].flat();
    }
  }
  const routingRaw = Object.fromEntries(Object.entries(ROUTING).map(([param, field]) => [field, single(merged, param)]));
  const topkRaw = single(merged, 'topk');
  return {
    model: single(merged, 'model'),
    topk: parseTopk(topkRaw),
    topkGiven: topkRaw !== undefined,
    trace: parseTrace(single(merged, 'trace')),
    routing: toRoutingRequest(routingRaw, paramName),
  };
}

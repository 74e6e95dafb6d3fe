/**
 * Classification controls from a query string, form fields or v2 / gRPC
 * `parameters`: every name comes from the declared options (pipeline's
 * ROUTING_OPTIONS and ANSWER_OPTIONS), each value is checked by its option's
 * one parser, and the rules between options by the pipeline's request builder.
 */
import { DEFAULTS, onSurface, parseSurface, surfaceName, type OptionSpec, type Surface } from '../config';
import { EeroError } from '../errors';
import { ANSWER_OPTIONS, ROUTING_OPTIONS, surfaceNamer, toRoutingRequest, type RoutingRequest } from '../pipeline';

export interface ClassifyParams {
  model: string | undefined;
  topk: number;
  /** True when the client named topk (v2 then adds the top-k outputs). */
  topkGiven: boolean;
  trace: boolean;
  routing: RoutingRequest;
}

export type RawParams = Record<string, unknown>;

/** Which surface a request's parameters come from: the query/form (v1) or the v2 `parameters` (REST and gRPC). */
export type ParamSurface = Extract<Surface, 'query' | 'v2'>;

/** One value per name: a string, a number or a boolean; a name given twice (query or form) is refused. */
function single(raw: RawParams, name: string): string | number | boolean | undefined {
  const v = raw[name];
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v))
    throw new EeroError('BAD_PARAMETER', `parameter "${name}" is given more than once`, { details: { parameter: name } });
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  throw new EeroError('BAD_PARAMETER', `parameter "${name}" must be a string, number or boolean`, { details: { parameter: name } });
}

/** v1: the query string, then form fields, in order; a name given in two sources is refused too. */
export function parseClassifyParams(...sources: RawParams[]): ClassifyParams {
  return parseParams(sources, 'query');
}

/** Query strings seen lately and what they parsed to (frozen: every request with that string shares it). */
const byQueryString = new Map<string, Readonly<ClassifyParams>>();
const QUERY_STRINGS_KEPT = 256;

/**
 * v1 parameters from the query string alone (a raw image body), parsed once per distinct query
 * string: clients repeat theirs (`?deadline_ms=50`), and parsing them was about 25 us of the event
 * loop's time per request. `parse` reads the query as express parsed it, on a miss only.
 */
export function queryStringParams(url: string, parse: () => RawParams): Readonly<ClassifyParams> {
  const at = url.indexOf('?');
  const search = at < 0 ? '' : url.slice(at + 1);
  const seen = byQueryString.get(search);
  if (seen !== undefined) return seen;
  const params = deepFreeze(parseClassifyParams(parse()));
  if (byQueryString.size >= QUERY_STRINGS_KEPT) byQueryString.delete(byQueryString.keys().next().value as string);
  byQueryString.set(search, params);
  return params;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Parameters from `sources` in order, as `surface` names them.
 * `options`: the declared options read (tests add their own to check that a declaration reaches every surface).
 */
export function parseParams(
  sources: readonly RawParams[],
  surface: ParamSurface = 'query',
  options: { routing?: readonly OptionSpec[]; answer?: readonly OptionSpec[] } = {},
): ClassifyParams & { values: Record<string, unknown> } {
  const routingSpecs = options.routing ?? ROUTING_OPTIONS;
  const specs = [...routingSpecs, ...(options.answer ?? ANSWER_OPTIONS)];
  // Every name we read; others are ignored (clients add their own).
  const known = ['model', ...onSurface(specs, surface).map((s) => surfaceName(s, surface))];
  const merged: RawParams = {};
  for (const s of sources) {
    for (const k of known) {
      if (s[k] === undefined) continue;
      merged[k] = merged[k] === undefined ? s[k] : [merged[k], s[k]].flat();
    }
  }
  const given = Object.fromEntries(known.map((k) => [k, single(merged, k)]));
  const model = given.model;
  const values = parseSurface(specs, surface, given);
  const topk = values.topk as number | undefined;
  return {
    model: model === undefined ? undefined : String(model),
    topk: topk ?? DEFAULTS.topk,
    topkGiven: topk !== undefined,
    trace: (values.trace as boolean | undefined) ?? false,
    routing: toRoutingRequest(values, surfaceNamer(surface, undefined, routingSpecs)),
    values,
  };
}

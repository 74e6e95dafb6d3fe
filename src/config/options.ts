/**
 * Declared options: an option (a routing control such as `budget` or `score`)
 * is declared once, with its type, bounds, default, one-line doc and the
 * surfaces that carry it. Every surface derives its name and its validation
 * from the declaration, so a value is valid everywhere or nowhere and every
 * surface words its error alike: `<name> must be <expected>, got <value>`.
 * The declarations themselves live with the routing (pipeline/options); this
 * is the machinery, which the config files, the CLI and the server share.
 */
import { EeroError, type ErrorCode } from '../errors';
import { checkBudgetSpec, parseBudget, type BudgetSpec } from './budget-spec';
import { describeRange, inRange, type Range } from './defaults';

/** Where an option can be given. */
export const SURFACES = ['query', 'v2', 'flag', 'policy', 'serve'] as const;
export type Surface = (typeof SURFACES)[number];

export type OptionKind = 'number' | 'integer' | 'boolean' | 'choice' | 'budget';

export interface OptionSpec {
  /** The field in camelCase: `deadlineMs`. */
  readonly key: string;
  readonly kind: OptionKind;
  /** Bounds of a number or integer. */
  readonly range?: Range;
  /** The values of a choice (a function: a registry may list them). */
  readonly choices?: () => readonly string[];
  /** The default as docs and help show it; undefined: none (the model's routing decides). */
  readonly default?: string;
  /** One line for help texts and the docs. */
  readonly doc: string;
  /** A valid value, shown in errors and docs. */
  readonly example: string;
  /** Shown in CLI help as `--flag <valueName>`. */
  readonly valueName?: string;
  /** One-letter CLI flag. */
  readonly short?: string;
  readonly surfaces: readonly Surface[];
  /** A surface's name when it is not derived from `key` (e.g. nested in a policy file: `guarantee.delta`). */
  readonly names?: Partial<Record<Surface, string>>;
}

const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Names already derived, per option (requests ask for them every time). */
const derivedNames = new WeakMap<OptionSpec, Partial<Record<Surface, string>>>();

/** The option's name on a surface: `deadline_ms`, `--deadline-ms`, `deadlineMs`. */
export function surfaceName(spec: OptionSpec, surface: Surface): string {
  let names = derivedNames.get(spec);
  if (names === undefined) derivedNames.set(spec, (names = {}));
  return (names[surface] ??= deriveName(spec, surface));
}

function deriveName(spec: OptionSpec, surface: Surface): string {
  const own = spec.names?.[surface];
  if (surface === 'flag') return `--${own ?? kebab(spec.key)}`;
  if (own !== undefined) return own;
  return surface === 'query' || surface === 'v2' ? snake(spec.key) : spec.key;
}

export function onSurface(specs: readonly OptionSpec[], surface: Surface): OptionSpec[] {
  return specs.filter((s) => s.surfaces.includes(surface));
}

/** What a valid value looks like, for errors, help and docs. */
export function expectedText(spec: OptionSpec): string {
  switch (spec.kind) {
    case 'budget':
      return 'a fraction of the full model (0.5, 50%) or MACs (6e6, 6M)';
    case 'boolean':
      return 'true, false, 1 or 0';
    case 'choice':
      return `one of ${(spec.choices?.() ?? []).join(', ')}`;
    case 'integer':
      return `an integer ${describeRange(spec.range ?? {}).replace(/^a number ?/, '')}`.trim();
    case 'number':
      return describeRange(spec.range ?? {});
  }
}

/** Plain decimal numbers only: `0x10`, `1_000`, `Infinity` and '' are not numbers a user means. */
const DECIMAL = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?\s*$/i;

function toNumber(raw: unknown): number {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string' && DECIMAL.test(raw)) return Number(raw);
  return NaN;
}

function toBoolean(raw: unknown): boolean | undefined {
  if (typeof raw === 'boolean') return raw;
  const v = typeof raw === 'string' || typeof raw === 'number' ? String(raw).trim().toLowerCase() : undefined;
  if (v === '1' || v === 'true') return true;
  // An empty form field or `?trace=` reads as not set.
  if (v === '0' || v === 'false' || v === '') return false;
  return undefined;
}

function toBudget(raw: unknown): BudgetSpec | undefined {
  if (typeof raw === 'object' && raw !== null && ('fraction' in raw || 'macs' in raw)) return checkBudgetSpec(raw as BudgetSpec);
  if (typeof raw !== 'string' && typeof raw !== 'number') return undefined;
  return parseBudget(raw);
}

/**
 * One value of one option, as a surface gives it (strings from flags and
 * queries, typed values from files); undefined when absent. `name` is how
 * the surface calls it, e.g. `--deadline-ms` or `budgets/x.yaml: beta`.
 */
export function parseOption(spec: OptionSpec, raw: unknown, name: string, code: ErrorCode = 'BAD_PARAMETER'): unknown {
  if (raw === undefined || raw === null) return undefined;
  const fail = (): never => {
    throw new EeroError(code, `${name} must be ${expectedText(spec)} (e.g. ${spec.example}), got ${JSON.stringify(raw)}`, {
      details: { parameter: name },
    });
  };
  switch (spec.kind) {
    case 'budget': {
      try {
        return toBudget(raw) ?? fail();
      } catch (e) {
        if (e instanceof EeroError && e.details?.parameter === name) throw e;
        // parseBudget says why ("budget "x" is neither ..."): keep its words, under this surface's name.
        const message = (e as Error).message.replace(/^budget /, '');
        throw new EeroError(code, `${name.replace(/:$/, '')}: ${message}`, { cause: e, details: { parameter: name } });
      }
    }
    case 'boolean':
      return toBoolean(raw) ?? fail();
    case 'choice':
      return typeof raw === 'string' && (spec.choices?.() ?? []).includes(raw) ? raw : fail();
    case 'integer':
    case 'number': {
      const v = toNumber(raw);
      if (!inRange(v, spec.range ?? {}) || (spec.kind === 'integer' && !Number.isInteger(v))) return fail();
      return v;
    }
  }
}

/** Parsed values by option key; only options that were given. */
export type OptionValues = Record<string, unknown>;

/**
 * Every option of `surface` from `raw` (keyed by the surface's names; a
 * dotted name such as `guarantee.delta` reads a nested mapping), validated.
 * `label` turns a surface name into the name errors use (e.g. prefixes the file).
 */
export function parseSurface(
  specs: readonly OptionSpec[],
  surface: Surface,
  raw: Record<string, unknown>,
  label: (name: string) => string = (n) => n,
  code: ErrorCode = 'BAD_PARAMETER',
): OptionValues {
  const out: OptionValues = {};
  for (const spec of onSurface(specs, surface)) {
    const name = surfaceName(spec, surface);
    const value = parseOption(spec, readPath(raw, name.replace(/^--/, '')), label(name), code);
    if (value !== undefined) out[spec.key] = value;
  }
  return out;
}

function readPath(raw: Record<string, unknown>, path: string): unknown {
  let at: unknown = raw;
  for (const part of path.split('.')) {
    if (typeof at !== 'object' || at === null || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/** The top-level keys a file surface accepts (`guarantee` for `guarantee.delta`), with the nested ones under each. */
export function fileKeys(specs: readonly OptionSpec[], surface: 'policy' | 'serve'): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  for (const spec of onSurface(specs, surface)) {
    const [top = '', ...rest] = surfaceName(spec, surface).split('.');
    const nested = keys.get(top) ?? [];
    if (rest.length > 0) nested.push(rest.join('.'));
    keys.set(top, nested);
  }
  return keys;
}

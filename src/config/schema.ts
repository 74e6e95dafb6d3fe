/**
 * Schema builders over zod 4. Config types are inferred from these schemas
 * (one source for the shape and the type), and every failure becomes one
 * message that names the field path: `file: field: expected ..., got ...`.
 */
import { z } from 'zod';
import { EeroError, type ErrorCode } from '../errors';

export type Schema<T> = z.ZodType<T>;

/** A short description of a value for messages. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  const text = typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' ? String(value) : JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

const got = (expected: string) => (issue: { input?: unknown }) => `expected ${expected}, got ${describe(issue.input)}`;

export interface StringOptions {
  nonEmpty?: boolean;
  pattern?: RegExp;
  /** Said when `pattern` does not match, e.g. "a 64-hex string". */
  patternName?: string;
}

export function str(options: StringOptions = {}): Schema<string> {
  return z.string({ error: got('a string') }).superRefine((value, ctx) => {
    if (options.nonEmpty && value.length === 0) ctx.addIssue({ code: 'custom', message: 'expected a non-empty string' });
    else if (options.pattern && !options.pattern.test(value)) {
      ctx.addIssue({
        code: 'custom',
        message: got(options.patternName ?? `a string matching ${String(options.pattern)}`)({ input: value }),
      });
    }
  });
}

export interface NumberOptions {
  integer?: boolean;
  min?: number;
  max?: number;
  /** Strict lower bound. */
  above?: number;
  /** Strict upper bound. */
  below?: number;
  /** Allow +-Infinity (YAML `.inf`). */
  infinite?: boolean;
}

export function num(options: NumberOptions = {}): Schema<number> {
  const range = [
    options.above !== undefined ? `> ${options.above}` : undefined,
    options.min !== undefined ? `>= ${options.min}` : undefined,
    options.max !== undefined ? `<= ${options.max}` : undefined,
    options.below !== undefined ? `< ${options.below}` : undefined,
  ].filter(Boolean);
  const what = options.integer ? 'an integer' : 'a number';
  const expected = range.length ? `${what} ${range.join(' and ')}` : what;
  const ok = (v: unknown): v is number =>
    typeof v === 'number' &&
    !Number.isNaN(v) &&
    (options.infinite === true || Number.isFinite(v)) &&
    (!options.integer || Number.isInteger(v)) &&
    (options.min === undefined || v >= options.min) &&
    (options.max === undefined || v <= options.max) &&
    (options.above === undefined || v > options.above) &&
    (options.below === undefined || v < options.below);
  // z.custom: zod 4's z.number() refuses Infinity, which thresholds need.
  return z.custom<number>(ok, { error: got(expected) });
}

export const bool = (): Schema<boolean> => z.boolean({ error: got('true or false') });

export function oneOf<const T extends readonly [string | number, ...(string | number)[]]>(values: T): Schema<T[number]> {
  const list = values.map((v) => JSON.stringify(v)).join(', ');
  return z.custom<T[number]>((v) => values.includes(v as T[number]), { error: got(`one of ${list}`) });
}

export interface ArrayOptions {
  length?: number;
  minLength?: number;
}

export function arr<T>(element: Schema<T>, options: ArrayOptions = {}): Schema<T[]> {
  return z.array(element, { error: got('a list') }).superRefine((value, ctx) => {
    if (options.length !== undefined && value.length !== options.length) {
      ctx.addIssue({ code: 'custom', message: `expected a list of ${options.length} items, got ${value.length}` });
    } else if (options.minLength !== undefined && value.length < options.minLength) {
      ctx.addIssue({ code: 'custom', message: `expected a list of at least ${options.minLength} items, got ${value.length}` });
    }
  });
}

/** YAML null counts as absent. */
const absentIfNull = (v: unknown): unknown => (v === null ? undefined : v);

/** An optional field (absent or null); ZodOptional on the outside so the inferred key is optional too. */
export function optional<T>(inner: Schema<T>): z.ZodOptional<Schema<T>> {
  return z.optional(z.preprocess(absentIfNull, inner.optional()) as unknown as Schema<T>);
}

export function withDefault<T>(inner: Schema<T>, fallback: () => T): Schema<T> {
  return z.preprocess((v) => (v === undefined || v === null ? fallback() : v), inner);
}

/** A mapping with exactly these fields; unknown keys are refused (typos in hand-written files), unless `ignore`. */
export function obj<S extends z.ZodRawShape>(shape: S, options: { unknownKeys?: 'reject' | 'ignore' } = {}) {
  const expected = `one of ${Object.keys(shape).join(', ')}`;
  const error = (issue: { code?: string; input?: unknown }): string =>
    issue.code === 'unrecognized_keys' ? `unknown field (expected ${expected})` : got('a mapping')(issue);
  return options.unknownKeys === 'ignore' ? z.object(shape, { error }) : z.strictObject(shape, { error });
}

/** Any mapping, kept as it is (provenance blocks). */
export const anyRecord = (): Schema<Record<string, unknown>> => z.record(z.string(), z.unknown(), { error: got('a mapping') });

/** A mapping of names to values of one schema. */
export const record = <T>(value: Schema<T>): Schema<Record<string, T>> => z.record(z.string(), value, { error: got('a mapping') });

/** `a.b[0].c` from zod's path. */
export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}

/** Add an issue at `path` (relative to the value being refined) from a cross-field rule. */
export type Report = (path: ReadonlyArray<string | number>, message: string) => void;

export function reporter(ctx: z.RefinementCtx): Report {
  return (path, message) => ctx.addIssue({ code: 'custom', path: [...path], message });
}

/** Run `schema` on a whole document; the first issue becomes `code` naming file and field. */
export function parseWithSchema<T>(schema: Schema<T>, value: unknown, file: string, code: ErrorCode): T {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0] as z.core.$ZodIssue;
  const keys = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path;
  const field = fieldPath(keys);
  throw new EeroError(code, `${file}: ${field || '(root)'}: ${issue.message}`, { details: { file, field } });
}

/**
 * The fields a file gives declared options in (config/options.ts): each key
 * is accepted as it is (the options' own parser checks the value, naming the
 * field), nested keys such as `guarantee.delta` as a mapping with exactly
 * those keys, so that a typo is still refused as an unknown field.
 */
export function declaredFields(keys: ReadonlyMap<string, readonly string[]>): Record<string, z.ZodType<unknown>> {
  const shape: Record<string, z.ZodType<unknown>> = {};
  for (const [top, nested] of keys) {
    shape[top] =
      nested.length === 0 ? optional(z.unknown()) : optional(obj(Object.fromEntries(nested.map((n) => [n, optional(z.unknown())]))));
  }
  return shape;
}

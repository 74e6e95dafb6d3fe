/**
 * A tiny schema toolkit: each schema turns an `unknown` (parsed YAML) into a
 * typed value or throws a `SchemaIssue` naming the field path that is wrong.
 * `parseWithSchema` turns the issue into an EeroError naming file and field.
 */
import { EeroError, type ErrorCode } from '../errors';

export type Schema<T> = (value: unknown, path: string) => T;

export class SchemaIssue extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
  ) {
    super(`${path || '(root)'}: ${expected}`);
    this.name = 'SchemaIssue';
  }
}

export function fail(path: string, expected: string): never {
  throw new SchemaIssue(path, expected);
}

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

export const child = (path: string, key: string): string => (path ? `${path}.${key}` : key);
export const item = (path: string, index: number): string => `${path}[${index}]`;

export interface StringOptions {
  nonEmpty?: boolean;
  pattern?: RegExp;
  /** Said in the error when `pattern` does not match, e.g. "a 64-hex string". */
  patternName?: string;
}

export function str(options: StringOptions = {}): Schema<string> {
  return (value, path) => {
    if (typeof value !== 'string') fail(path, `expected a string, got ${describe(value)}`);
    if (options.nonEmpty && value.length === 0) fail(path, 'expected a non-empty string');
    if (options.pattern && !options.pattern.test(value)) {
      fail(path, `expected ${options.patternName ?? `a string matching ${options.pattern}`}, got ${describe(value)}`);
    }
    return value;
  };
}

export interface NumberOptions {
  integer?: boolean;
  min?: number;
  max?: number;
  /** Strict lower bound. */
  above?: number;
  /** Allow +-Infinity (YAML `.inf`). */
  infinite?: boolean;
}

export function num(options: NumberOptions = {}): Schema<number> {
  const what = options.integer ? 'an integer' : 'a number';
  const range = [
    options.above !== undefined ? `> ${options.above}` : undefined,
    options.min !== undefined ? `>= ${options.min}` : undefined,
    options.max !== undefined ? `<= ${options.max}` : undefined,
  ].filter(Boolean);
  const expected = range.length ? `${what} ${range.join(' and ')}` : what;
  return (value, path) => {
    const ok =
      typeof value === 'number' &&
      !Number.isNaN(value) &&
      (options.infinite || Number.isFinite(value)) &&
      (!options.integer || Number.isInteger(value)) &&
      (options.min === undefined || value >= options.min) &&
      (options.max === undefined || value <= options.max) &&
      (options.above === undefined || value > options.above);
    if (!ok) fail(path, `expected ${expected}, got ${describe(value)}`);
    return value as number;
  };
}

export const bool = (): Schema<boolean> => (value, path) => {
  if (typeof value !== 'boolean') fail(path, `expected true or false, got ${describe(value)}`);
  return value;
};

export function oneOf<T extends string | number>(values: readonly T[]): Schema<T> {
  const list = values.map((v) => JSON.stringify(v)).join(', ');
  return (value, path) => {
    if (!values.includes(value as T)) fail(path, `expected one of ${list}, got ${describe(value)}`);
    return value as T;
  };
}

export interface ArrayOptions {
  length?: number;
  minLength?: number;
}

export function arr<T>(element: Schema<T>, options: ArrayOptions = {}): Schema<T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) fail(path, `expected a list, got ${describe(value)}`);
    if (options.length !== undefined && value.length !== options.length) {
      fail(path, `expected a list of ${options.length} items, got ${value.length}`);
    }
    if (options.minLength !== undefined && value.length < options.minLength) {
      fail(path, `expected a list of at least ${options.minLength} items, got ${value.length}`);
    }
    return value.map((v, i) => element(v, item(path, i)));
  };
}

/** Undefined (or YAML null) stays undefined; anything else must pass `inner`. */
export function optional<T>(inner: Schema<T>): Schema<T | undefined> {
  return (value, path) => (value === undefined || value === null ? undefined : inner(value, path));
}

/** Undefined (or YAML null) becomes `fallback()`; anything else must pass `inner`. */
export function withDefault<T>(inner: Schema<T>, fallback: () => T): Schema<T> {
  return (value, path) => (value === undefined || value === null ? fallback() : inner(value, path));
}

/** Any mapping, kept as it is (provenance blocks). */
export const anyRecord = (): Schema<Record<string, unknown>> => (value, path) => {
  if (!isPlainObject(value)) fail(path, `expected a mapping, got ${describe(value)}`);
  return value;
};

export type Shape = Record<string, Schema<unknown>>;
type Infer<S extends Shape> = { [K in keyof S]: ReturnType<S[K]> };

export interface ObjectOptions {
  /** 'reject' (default) refuses unknown keys, catching typos in hand-written files. */
  unknownKeys?: 'reject' | 'ignore';
}

export function obj<S extends Shape>(shape: S, options: ObjectOptions = {}): Schema<Infer<S>> {
  return (value, path) => {
    if (!isPlainObject(value)) fail(path, `expected a mapping, got ${describe(value)}`);
    if (options.unknownKeys !== 'ignore') {
      const unknown = Object.keys(value).find((k) => !(k in shape));
      if (unknown !== undefined) {
        fail(child(path, unknown), `unknown field (expected one of ${Object.keys(shape).join(', ')})`);
      }
    }
    const out: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(shape)) {
      const parsed = schema(value[key], child(path, key));
      if (parsed !== undefined) out[key] = parsed;
    }
    return out as Infer<S>;
  };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Run `schema` on a whole document; a SchemaIssue becomes `code` naming file and field. */
export function parseWithSchema<T>(schema: Schema<T>, value: unknown, file: string, code: ErrorCode): T {
  try {
    return schema(value, '');
  } catch (e) {
    throw toConfigError(e, file, code);
  }
}

export function toConfigError(e: unknown, file: string, code: ErrorCode): unknown {
  if (!(e instanceof SchemaIssue)) return e;
  return new EeroError(code, `${file}: ${e.path || '(root)'}: ${e.expected}`, {
    details: { file, field: e.path },
  });
}

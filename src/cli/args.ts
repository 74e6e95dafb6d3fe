import { parseArgs } from 'node:util';
import { EeroError } from '../errors';

/** One flag of a command: declared once, used for parsing and for --help. */
export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  description: string;
  default?: string | boolean;
  /** Shown in help only: what applies when the flag is left out (e.g. the model's routing decides). */
  shownDefault?: string;
  valueName?: string;
}

export interface CommandSpec<F extends Record<string, FlagSpec> = Record<string, FlagSpec>> {
  name: string;
  summary: string;
  usage: string;
  flags: F;
  examples?: string[];
}

export type ParsedFlags<F extends Record<string, FlagSpec>> = {
  [K in keyof F]: F[K]['type'] extends 'boolean' ? boolean : string | undefined;
};

export interface Parsed<F extends Record<string, FlagSpec>> {
  flags: ParsedFlags<F>;
  positionals: string[];
  help: boolean;
}

export function parseCommand<F extends Record<string, FlagSpec>>(spec: CommandSpec<F>, argv: string[]): Parsed<F> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, f] of Object.entries(spec.flags)) options[name] = f.short ? { type: f.type, short: f.short } : { type: f.type };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new EeroError('BAD_PARAMETER', `${spec.name}: ${(e as Error).message} (see eero ${spec.name} --help)`, { cause: e });
  }
  const flags: Record<string, string | boolean | undefined> = {};
  for (const [name, f] of Object.entries(spec.flags)) {
    const v = parsed.values[name];
    flags[name] = v === undefined ? (f.type === 'boolean' ? Boolean(f.default) : f.default) : v;
  }
  return { flags: flags as ParsedFlags<F>, positionals: parsed.positionals, help: parsed.values.help === true };
}

export function helpText(spec: CommandSpec): string {
  const rows = Object.entries(spec.flags).map(([name, f]) => {
    const left = `${f.short ? `-${f.short}, ` : '    '}--${name}${f.type === 'string' ? ` <${f.valueName ?? 'value'}>` : ''}`;
    const shown = f.default !== undefined && f.default !== false ? String(f.default) : f.shownDefault;
    const def = shown !== undefined ? ` (default: ${shown})` : '';
    return `  ${left.padEnd(30)} ${f.description}${def}`;
  });
  rows.push(`  ${'-h, --help'.padEnd(30)} show this help`);
  const examples = spec.examples?.length ? `\n\nExamples:\n${spec.examples.map((e) => `  ${e}`).join('\n')}` : '';
  return `${spec.summary}\n\nUsage: ${spec.usage}\n\nOptions:\n${rows.join('\n')}${examples}\n`;
}

/** Parse a number flag with bounds, naming the flag in the error. */
export function numberFlag(
  name: string,
  raw: string | undefined,
  opts: { min?: number; max?: number; integer?: boolean } = {},
): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  const bad =
    raw.trim() === '' ||
    !Number.isFinite(v) ||
    (opts.integer === true && !Number.isInteger(v)) ||
    (opts.min !== undefined && v < opts.min) ||
    (opts.max !== undefined && v > opts.max);
  if (bad) {
    const range = `${opts.integer ? 'an integer' : 'a number'}${opts.min !== undefined ? ` >= ${opts.min}` : ''}${opts.max !== undefined ? ` <= ${opts.max}` : ''}`;
    throw new EeroError('BAD_PARAMETER', `--${name} must be ${range}, got ${JSON.stringify(raw)}`);
  }
  return v;
}

/** A CLI command: its spec (flags, help) and what it does. */
export interface Command {
  spec: CommandSpec;
  run(argv: string[]): Promise<number>;
}

/** Parse the flags, answer --help, then hand the parsed flags to `handler`. */
export function defineCommand<F extends Record<string, FlagSpec>>(
  spec: CommandSpec<F>,
  handler: (args: Parsed<F>) => Promise<number>,
): Command {
  return {
    spec: spec,
    async run(argv: string[]): Promise<number> {
      const args = parseCommand(spec, argv);
      if (args.help) {
        process.stdout.write(helpText(spec));
        return 0;
      }
      return handler(args);
    },
  };
}

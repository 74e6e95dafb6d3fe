#!/usr/bin/env node
import { isEeroError } from '../errors';
import type { Command } from './commands';
import { exitCodeFor, EXIT_OK, EXIT_UNEXPECTED } from './exit-codes';
import { holdSignals } from './signals';

function usage(commands: readonly Command[]): string {
  const rows = commands.map((c) => `  ${c.spec.name.padEnd(12)} ${c.spec.summary}`);
  return [
    'eero: early-exit image classification within a compute budget',
    '',
    'Usage: eero <command> [options]',
    '',
    'Commands:',
    ...rows,
    '',
    "Run `eero <command> --help` for a command's options.",
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  // Loaded here, not imported above: the command modules take a while to load (see signals.ts).
  const { COMMANDS } = await import('./commands');
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage(COMMANDS));
    return name === undefined ? 2 : EXIT_OK;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${(require('../../../package.json') as { version: string }).version}\n`);
    return EXIT_OK;
  }
  const command: Command | undefined = COMMANDS.find((c) => c.spec.name === name);
  if (!command) {
    process.stderr.write(`eero: unknown command "${name}"\n\n${usage(COMMANDS)}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    // Our errors are one line and a code; anything else is a bug and keeps its stack.
    if (isEeroError(e)) {
      process.stderr.write(`eero ${name}: ${e.message} [${e.code}]\n`);
      return exitCodeFor(e.code);
    }
    process.stderr.write(`eero ${name}: unexpected error\n${(e as Error).stack ?? String(e)}\n`);
    return EXIT_UNEXPECTED;
  }
}

if (require.main === module) {
  if (process.argv[2] === 'serve') holdSignals();
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = EXIT_UNEXPECTED;
    },
  );
}

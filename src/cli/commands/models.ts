import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isBundleDir, loadBundle } from '../../config';
import { EeroError } from '../../errors';
import { defineCommand, type CommandSpec } from '../args';
import { markdownTable } from '../report/tables';

const flags = {
  dir: { type: 'string', description: 'folder holding bundles', default: 'models', valueName: 'dir' },
} as const;

const spec: CommandSpec<typeof flags> = {
  name: 'models',
  summary: 'List the bundles in a folder: exits, cumulative MACs and test accuracy per exit.',
  usage: 'eero models [--dir models] [bundle...]',
  flags,
};

export const modelsCommand = defineCommand(spec, async (args) => {
  const dir = args.flags.dir as string;
  const listing = args.positionals.length ? [] : await fs.readdir(dir, { withFileTypes: true }).catch((e: unknown) => {
    throw new EeroError('IO_ERROR', `cannot read ${dir}: ${(e as Error).message}`, { cause: e });
  });
  const dirs = args.positionals.length
    ? args.positionals
    : listing.filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name));
  for (const d of dirs) {
    if (!(await isBundleDir(d))) {
      // A folder named on the command line must be a bundle; the listing of --dir skips what is not.
      if (args.positionals.length) throw new EeroError('MODEL_FILE_MISSING', `${d} is not a bundle (no manifest.yaml)`, { details: { dir: d } });
      continue;
    }
    const b = await loadBundle(d, { verify: false });
    const m = b.manifest;
    const full = m.exits[m.exits.length - 1]?.macs ?? 1;
    process.stdout.write(
      `\n${m.name} (${d}): ${String(m.architecture.family)}, ${m.exits.length} exits, ${m.labels.length} classes, input ${m.input.channels}x${m.input.height}x${m.input.width}\n\n`,
    );
    process.stdout.write(
      markdownTable(
        ['exit', 'MACs', '% of full', 'test acc. %'],
        m.exits.map((e) => [e.exit, e.macs, +((100 * e.macs) / full).toFixed(1), +(100 * e.testAccuracy).toFixed(2)]),
      ),
    );
  }
  return 0;
});

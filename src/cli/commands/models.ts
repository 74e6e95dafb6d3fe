import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isBundleDir, loadBundle } from '../../config';
import { EeroError } from '../../errors';
import { defineCommand, type CommandSpec } from '../args';
import { packagePath } from '../package-root';
import { markdownTable } from '../report/tables';

const flags = {
  dir: { type: 'string', description: "folder holding bundles (default: the package's models)", valueName: 'dir' },
} as const;

const spec: CommandSpec<typeof flags> = {
  name: 'models',
  summary: 'List the bundles in a folder: exits, cumulative MACs and test accuracy per exit.',
  usage: 'eero models [--dir models] [bundle folder or name...]',
  flags,
};

async function bundlesIn(dir: string): Promise<string[]> {
  const listing = await fs.readdir(dir, { withFileTypes: true }).catch((e: unknown) => {
    throw new EeroError('IO_ERROR', `cannot read ${dir}: ${(e as Error).message}`, { cause: e });
  });
  const dirs = listing.filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name));
  const bundles = await Promise.all(dirs.map(async (d) => ((await isBundleDir(d)) ? d : undefined)));
  return bundles.filter((d): d is string => d !== undefined);
}

/** A bundle named on the command line: its folder, or its name in --dir; else MODEL_FILE_MISSING saying what is there instead. */
async function resolveBundle(arg: string, dir: string): Promise<string> {
  if (await isBundleDir(arg)) return arg;
  const inDir = path.join(dir, arg);
  if (!path.isAbsolute(arg) && (await isBundleDir(inDir))) return inDir;
  const kind = await fs.stat(arg).then(
    (s) => (s.isDirectory() ? 'is a folder without manifest.yaml' : 'is a file, not a bundle folder'),
    () => 'does not exist',
  );
  const known = await bundlesIn(dir).catch(() => []);
  const names = known.map((d) => path.basename(d));
  const there = names.length > 0 ? `bundles in ${dir}: ${names.join(', ')}` : `no bundles in ${dir}`;
  throw new EeroError(
    'MODEL_FILE_MISSING',
    `no bundle ${JSON.stringify(arg)}: ${arg} ${kind}, and ${inDir} is no bundle either (${there})`,
    {
      details: { bundle: arg, dir, available: names },
    },
  );
}

export const modelsCommand = defineCommand(spec, async (args) => {
  const dir = args.flags.dir ?? packagePath('models');
  // Every named bundle is checked before anything is printed.
  const dirs = args.positionals.length ? await Promise.all(args.positionals.map((p) => resolveBundle(p, dir))) : await bundlesIn(dir);
  for (const d of dirs) {
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

import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { loadBundle, type Bundle } from '../../config';
import { EeroError } from '../../errors';
import { defineCommand, type CommandSpec } from '../args';
import { nameText } from '../folder/file-names';
import { listFiles } from '../folder/walk';
import { mergeShards } from '../merge/merge-shards';
import type { ManifestFacts } from '../merge/check-row';
import { mergeSummaryText } from '../merge/summary';
import { packagePath } from '../package-root';

const flags = {
  out: { type: 'string', short: 'o', description: 'the merged results file, .csv or .jsonl (whatever the parts are)', valueName: 'file' },
  folder: {
    type: 'string',
    description:
      'the folder the shards classified: any file of it in no shard refuses the merge (without it, a file missing from every shard cannot be noticed)',
    valueName: 'dir',
  },
  'all-files': { type: 'boolean', description: 'with --folder: every file, not only image extensions (as classify --all-files)' },
  model: {
    type: 'string',
    short: 'm',
    description:
      "the parts' bundle: every row is checked against its manifest (exit, MACs, cost, label), and its labels score images in class-named folders (default: the bundle of the parts' model in the package's models)",
    valueName: 'dir',
  },
} as const;

const spec: CommandSpec<typeof flags> = {
  name: 'merge',
  summary:
    'Join the part files of a sharded classify (--shard i/N) into one results file; checks each file is in one shard; fleet summary.',
  usage: 'eero merge <part>... --out <file> [--folder dir [--all-files]] [--model dir]',
  flags,
  examples: [
    'eero merge part-0.jsonl part-1.jsonl part-2.jsonl part-3.jsonl --out results.jsonl',
    "eero merge part-*.jsonl part-*.csv --out results.csv          # parts of either format; the output takes --out's",
    'eero merge part-*.jsonl --out results.jsonl --folder photos/  # and refuse if a file of photos/ is in no part',
    '# A file in two parts, parts of another model, budget, rule, score or cost unit, or a row its manifest denies, are refused (nothing is written).',
    '# Rows are copied as they are (converted when the formats differ); the output appears whole, by rename.',
  ],
};

/** The bundles the parts' model may be: --model's, else every bundle in the package's models folder. */
async function candidateBundles(dir: string | undefined): Promise<Bundle[]> {
  if (dir !== undefined) return [await loadBundle(dir, { verify: false })];
  const root = packagePath('models');
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const found = await Promise.all(
    entries.filter((e) => e.isDirectory()).map((e) => loadBundle(path.join(root, e.name), { verify: false }).catch(() => undefined)),
  );
  return found.filter((b): b is Bundle => b !== undefined);
}

/** The manifest the rows of `model` are checked against (and whose labels score them). */
function manifestFinder(bundles: Bundle[], given: string | undefined): (model: string) => ManifestFacts {
  return (model) => {
    const bundle = bundles.find((b) => b.manifest.name === model);
    if (bundle) {
      const { manifest } = bundle;
      return { name: manifest.name, macs: manifest.exits.map((e) => e.macs), labels: manifest.labels };
    }
    if (given !== undefined) {
      throw new EeroError(
        'MERGE_CONFLICT',
        `the parts hold results of model ${model}, --model ${given} is ${bundles[0]?.manifest.name ?? '?'}: give the bundle the parts were made with`,
        { details: { model, bundle: given } },
      );
    }
    const names = bundles.map((b) => b.manifest.name).join(', ') || 'none';
    throw new EeroError(
      'BAD_PARAMETER',
      `no bundle of model ${model} in ${packagePath('models')} (there: ${names}) to check the rows against; give its folder with --model`,
      { details: { model } },
    );
  };
}

async function folderNames(folder: string, allFiles: boolean, skip: readonly string[]): Promise<Set<string>> {
  const exclude = new Set(skip.flatMap((f) => [path.resolve(f), path.resolve(`${f}.lock`)]));
  const entries = await listFiles(folder, { allFiles, exclude });
  return new Set(entries.map((e) => nameText(e.rel)));
}

export const mergeCommand = defineCommand(spec, async (args) => {
  const f = args.flags;
  const out = f.out;
  if (out === undefined) throw new EeroError('BAD_PARAMETER', 'give the merged file with --out FILE (see eero merge --help)');
  if (f['all-files'] && f.folder === undefined) throw new EeroError('BAD_PARAMETER', '--all-files goes with --folder');
  const inputs = args.positionals;
  const bundles = await candidateBundles(f.model);
  const expected = f.folder === undefined ? undefined : await folderNames(f.folder, f['all-files'], [...inputs, out]);
  const result = mergeShards(inputs, { out, manifestFor: manifestFinder(bundles, f.model), ...(expected ? { expected } : {}) });
  const text = mergeSummaryText(result, {
    out,
    ...(result.manifest ? { exits: result.manifest.macs.length } : {}),
    ...(f.folder !== undefined ? { folder: f.folder } : {}),
  });
  process.stdout.write(text + `results: ${out}\n`);
  return 0;
});

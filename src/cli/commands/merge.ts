import * as path from 'node:path';
import { DEFAULTS, loadBundle, type Bundle } from '../../config';
import { EeroError } from '../../errors';
import { defineCommand, type CommandSpec } from '../args';
import { nameText } from '../folder/file-names';
import { listFiles } from '../folder/walk';
import { mergeShards } from '../merge/merge-shards';
import { mergeSummaryText } from '../merge/summary';

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
    description: `bundle folder whose labels score images in class-named folders (default: ${DEFAULTS.modelPath})`,
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
    '# A file in two parts, or parts of another model or budget, are refused (nothing is written).',
    '# Rows are copied as they are (converted when the formats differ); the output appears whole, by rename.',
  ],
};

interface Labels {
  bundle?: Bundle;
  /** Why there are none. */
  why?: string;
}

/** The labels score accuracy, a bonus: the default bundle may be absent where merge runs, a named one may not. */
async function readLabels(dir: string | undefined): Promise<Labels> {
  if (dir !== undefined) return { bundle: await loadBundle(dir, { verify: false }) };
  try {
    return { bundle: await loadBundle(DEFAULTS.modelPath, { verify: false }) };
  } catch {
    return { why: `no bundle at ${DEFAULTS.modelPath} to read the labels from (give --model)` };
  }
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
  const { bundle, why } = await readLabels(f.model);
  const expected = f.folder === undefined ? undefined : await folderNames(f.folder, f['all-files'], [...inputs, out]);
  const labels = bundle?.manifest.labels;
  const result = mergeShards(inputs, { out, ...(labels ? { labels } : {}), ...(expected ? { expected } : {}) });
  const name = bundle?.manifest.name;
  const same = name !== undefined && name === result.model;
  if (!same && name !== undefined && result.model !== undefined) {
    // The labels were another model's: its classes may differ, so its accuracy figure means nothing.
    result.tally.labelled = 0;
    result.tally.correct = 0;
  }
  const noAccuracy = why ?? (same || result.model === undefined ? undefined : `the shards are model ${result.model}, --model is ${name}`);
  const text = mergeSummaryText(result, {
    out,
    ...(same && bundle ? { exits: bundle.manifest.exits.length } : {}),
    ...(noAccuracy ? { noAccuracy } : {}),
    ...(f.folder !== undefined ? { folder: f.folder } : {}),
  });
  process.stdout.write(text + `results: ${out}\n`);
  return 0;
});

import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DEFAULTS, writeBudgetPolicy } from '../../config';
import { optionFlags, someOptions } from './routing-flags';
import { EeroError } from '../../errors';
import { calibrateBundle, fitLearnedScore, ROUTING_OPTIONS, routingFrom } from '../../pipeline';
import { defineCommand, numberFlag, type CommandSpec } from '../args';
import { packagePath } from '../package-root';
import { accuracyVsCostSvg, budgetTable, calibrationMarkdown, eeroSummary } from '../report/calibration';
import { certificationText } from '../report/certification';
import { csvTable } from '../report/tables';

const flags = {
  model: { type: 'string', short: 'm', description: `bundle folder (default: the package's ${DEFAULTS.modelPath})`, valueName: 'dir' },
  budgets: {
    type: 'string',
    description: 'budget fractions to report, comma-separated (default: a grid from the cheapest exit to 1)',
    valueName: 'list',
  },
  'write-policies': {
    type: 'string',
    description: 'budget fractions to write as budgets/<model>-<budget>.yaml',
    default: '0.5',
    valueName: 'list',
  },
  ...optionFlags(someOptions(['score', 'beta', 'agreement', 'accuracyDrop', 'delta'])),
  'report-dir': { type: 'string', description: 'where the table and plot go', default: 'reports/<model>', valueName: 'dir' },
  'budgets-dir': { type: 'string', description: 'where policy files go', default: 'budgets', valueName: 'dir' },
  'no-profile': { type: 'boolean', description: 'skip measuring seconds per stage on this machine' },
  'fit-learned': {
    type: 'boolean',
    description:
      'fit the learned exit score on the calibration outputs (no labels needed) and write it into the bundle (learned-score.json, named in manifest.yaml)',
  },
  'profile-batch': { type: 'string', description: 'batch size for the seconds profile', default: '64' },
} as const;

const spec: CommandSpec<typeof flags> = {
  name: 'calibrate',
  summary:
    "Calibrate EERO on a bundle's calibration outputs; report accuracy against cost on its test outputs beside the baselines; write budget policies.",
  usage: 'eero calibrate [--model dir] [--budgets 0.3,0.5,0.7] [--write-policies 0.5] [--agreement 0.99 --delta 0.05]',
  flags,
  examples: [
    'eero calibrate --model models/resnet18-fmnist --write-policies 0.5,0.7',
    'eero calibrate --agreement 0.99 --delta 0.05 --write-policies 1',
    'eero calibrate --fit-learned --model models/convnext-fmnist',
  ],
};

function parseFractions(name: string, raw: string): number[] {
  return raw.split(',').map((s) => numberFlag(name, s.trim(), { min: 1e-6, max: 1 }) as number);
}

/** Parses the flags, has the pipeline calibrate (calibrate-bundle.ts), then writes the report and the policies and prints the summary. */
export const calibrateCommand = defineCommand(spec, async (args) => {
  const f = args.flags;
  if (args.positionals.length > 0)
    throw new EeroError('BAD_PARAMETER', `calibrate takes no positional arguments (got ${args.positionals.join(' ')})`);
  const routing = routingFrom('flag', f);
  const dir = f.model ?? packagePath(DEFAULTS.modelPath);
  // Fitted first: the calibration below then serves and reports the learned score with the bundle's new file.
  if (f['fit-learned']) {
    const fitted = await fitLearnedScore(dir);
    process.stdout.write(
      `learned score: ${fitted.params.kind} over ${fitted.params.features.join(', ')}, fitted on the calibration outputs; written to ${fitted.file}\n`,
    );
  }
  const result = await calibrateBundle(dir, {
    score: routing.score,
    beta: routing.beta,
    guarantee: routing.guarantee,
    fractions: f.budgets ? parseFractions('budgets', f.budgets) : undefined,
    policyFractions: parseFractions('write-policies', f['write-policies'] as string),
    policyFractionsField: '--write-policies',
    profileBatch: f['no-profile'] ? undefined : numberFlag('profile-batch', f['profile-batch'], { min: 1, max: 4096, integer: true }),
  });

  const reportDir = (f['report-dir'] as string).replace('<model>', result.manifest.name);
  mkdirSync(reportDir, { recursive: true });
  const table = budgetTable(result);
  writeFileSync(path.join(reportDir, 'calibration.md'), calibrationMarkdown(result));
  writeFileSync(path.join(reportDir, 'calibration.csv'), csvTable(table.header, table.rows));
  writeFileSync(path.join(reportDir, 'accuracy-vs-cost.svg'), accuracyVsCostSvg(result));
  if (result.certification) process.stdout.write(certificationText(result.certification));
  const written: string[] = [];
  for (const p of result.policies) {
    const file = path.join(f['budgets-dir'] as string, p.fileName);
    mkdirSync(path.dirname(file), { recursive: true });
    await writeBudgetPolicy(file, p.document, ROUTING_OPTIONS);
    written.push(file);
  }
  if (result.failure !== undefined) throw result.failure;
  if (result.points.some((p) => p.kind === 'eero' && p.violation)) {
    process.stderr.write('warning: EERO exceeded a budget on the test split (see the table)\n');
  }
  process.stdout.write(eeroSummary(result));
  process.stdout.write(
    `report: ${path.join(reportDir, 'calibration.md')}, calibration.csv, accuracy-vs-cost.svg\npolicies: ${written.join(', ')}\n`,
  );
  return 0;
});

/**
 * Joining shard part files into one results file. Shards are read one at a
 * time and their rows written out straight away, so memory holds one part
 * file and the set of file names, not the whole fleet's rows. The rows go to
 * a temporary file beside the output, renamed over it only once every check
 * has passed: a refused merge leaves no output, and a reader never sees half of one.
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { EeroError } from '../../errors';
import { acquireLock } from '../folder/lock';
import { CSV_HEADER, type ResultsFormat, type StoredRow } from '../folder/row-format';
import { describeDifferences, describeRun, differences, type RunSettings } from '../folder/run-settings';
import { checkRow, type ManifestFacts } from './check-row';
import { rowText } from './convert';
import { readShard, shardFormat } from './read-shard';
import { countRow, emptyTally, type FleetTally } from './tally';

export interface MergeOptions {
  out: string;
  /** Every file the shards were made from (text names): one in no shard refuses the merge. */
  expected?: ReadonlySet<string>;
  /** The manifest of the rows' model (asked once, at the first row): every row is checked against it. */
  manifestFor: (model: string) => ManifestFacts;
}

export interface MergeResult {
  tally: FleetTally;
  /** Undefined only when every shard is empty. */
  model: string | undefined;
  budget: number | undefined;
  /** The rows' model's manifest (its labels scored the rows whose folder names a class). */
  manifest: ManifestFacts | undefined;
  /** With `expected`: files in a shard but not in the folder (removed since, or another --all-files). */
  unexpected: string[];
}

/** Rows written per write(2): big enough to be cheap, small enough not to double a shard in memory. */
const WRITE_ROWS = 4096;
const LISTED = 10;

export function listSome(names: readonly string[]): string {
  const shown = names.slice(0, LISTED).join(', ');
  return names.length > LISTED ? `${shown}, ... (${names.length - LISTED} more)` : shown;
}

function checkInputs(inputs: readonly string[], out: string): void {
  if (inputs.length === 0) throw new EeroError('BAD_PARAMETER', 'give the part files to merge (see eero merge --help)');
  const seen = new Map<string, string>();
  for (const file of inputs) {
    shardFormat(file);
    const abs = path.resolve(file);
    const before = seen.get(abs);
    if (before !== undefined) throw new EeroError('BAD_PARAMETER', `${file} is given twice (also as ${before})`);
    seen.set(abs, file);
  }
  if (seen.has(path.resolve(out))) throw new EeroError('BAD_PARAMETER', `--out ${out} is one of the part files; write the merge elsewhere`);
}

interface Origin {
  shard: string;
  run: RunSettings;
  manifest: ManifestFacts;
}

/** Model, budget, rule, score and cost unit must be one across the fleet: a row's against the first row's. */
function checkSame(first: Origin | undefined, shard: string, row: StoredRow, o: MergeOptions): Origin {
  if (first === undefined) {
    const run = { model: row.model, budget: row.budget, rule: row.rule, score: row.score, costUnit: row.costUnit };
    return { shard, run, manifest: o.manifestFor(row.model) };
  }
  if (differences(first.run, row).length > 0) {
    throw new EeroError(
      'MERGE_CONFLICT',
      `${shard}:${row.line} holds results of ${describeRun(row)}, ${first.shard} of ${describeRun(first.run)} ` +
        `(${describeDifferences(row, first.run)}): the shards of one merge must share them ` +
        '(run every shard with the same --model, --budget, rule, --score and --cost-unit)',
      {
        details: {
          shards: [first.shard, shard],
          line: row.line,
          file: row.file,
          models: [first.run.model, row.model],
          budgets: [first.run.budget, row.budget],
        },
      },
    );
  }
  return first;
}

function duplicate(file: string, first: string, second: string): EeroError {
  const where = first === second ? `twice in ${first}` : `in both ${first} and ${second}`;
  return new EeroError(
    'MERGE_CONFLICT',
    `${file} is ${where}: every file must be in exactly one shard (is a part given twice, or were the shards split with different N?)`,
    { details: { file, shards: [first, second] } },
  );
}

function checkCoverage(expected: ReadonlySet<string>, owner: ReadonlyMap<string, number>): string[] {
  const missing = [...expected].filter((f) => !owner.has(f));
  if (missing.length > 0) {
    throw new EeroError(
      'MERGE_INCOMPLETE',
      `${missing.length} files of the folder are in no shard: ${listSome(missing)}; resume the shards that lack them ` +
        '(the same classify commands) and merge again, or merge without --folder to join what is there',
      { details: { missing: missing.length, first: missing.slice(0, LISTED) } },
    );
  }
  return [...owner.keys()].filter((f) => !expected.has(f));
}

export function mergeShards(inputs: readonly string[], o: MergeOptions): MergeResult {
  checkInputs(inputs, o.out);
  const format: ResultsFormat = shardFormat(o.out);
  const lock = acquireLock(o.out);
  const temporary = path.join(path.dirname(o.out), `.${path.basename(o.out)}.${process.pid}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temporary, 'wx');
    if (format === 'csv') writeSync(fd, CSV_HEADER + '\n');
    const tally = emptyTally();
    /** Each file's shard, as an index into `inputs`. */
    const owner = new Map<string, number>();
    let first: Origin | undefined;
    inputs.forEach((file, i) => {
      const shard = readShard(file);
      const mine = { file, images: 0, errors: 0, costFractionSum: 0 };
      tally.shards.push(mine);
      for (const row of shard.rows) {
        first = checkSame(first, file, row, o);
        checkRow(file, row, first.manifest);
        const before = owner.get(row.file);
        if (before !== undefined) throw duplicate(row.file, inputs[before] as string, file);
        owner.set(row.file, i);
        countRow(tally, mine, row, first.manifest.labels);
      }
      for (let k = 0; k < shard.rows.length; k += WRITE_ROWS) {
        const chunk = shard.rows.slice(k, k + WRITE_ROWS).map((r) => rowText(r, shard.format, format));
        writeSync(fd as number, chunk.join(''));
      }
    });
    const unexpected = o.expected ? checkCoverage(o.expected, owner) : [];
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temporary, o.out);
    return { tally, model: first?.run.model, budget: first?.run.budget, manifest: first?.manifest, unexpected };
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(temporary);
    } catch {
      // never created, or already renamed
    }
    if (e instanceof EeroError) throw e;
    throw new EeroError('IO_ERROR', `cannot write ${o.out}: ${(e as Error).message}`, { cause: e });
  } finally {
    lock.release();
  }
}

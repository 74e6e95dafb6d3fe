/**
 * The results of a folder run, CSV or JSON Lines, append-only: each batch's
 * rows go out in one write(2), so an interrupted run leaves whole rows (a torn
 * last one is cut when the run resumes). Every row records the model, budget,
 * rule, score and cost unit (run-settings.ts), so a resume with other ones is
 * refused, and a lock file keeps a second writer out.
 */
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync, writeSync, ftruncateSync, fstatSync } from 'node:fs';
import { EeroError } from '../../errors';
import { acquireLock, type Lock } from './lock';
import { CSV_HEADER, formatOf, formatRow, readRows, type ResultRow, type ResultsFormat } from './row-format';
import { describeDifferences, describeRun, differences, type RunSettings } from './run-settings';

export interface OpenOptions {
  /** Start over instead of resuming. */
  fresh: boolean;
  /** Drop error rows on resume, so their files run again. */
  retryErrors: boolean;
  /** What this run records; a resume with other values is refused. */
  run: RunSettings;
}

export class ResultsFile {
  private constructor(
    readonly format: ResultsFormat,
    /** Files already answered (text names), skipped by this run. */
    readonly done: Set<string>,
    private readonly fd: number,
    private readonly lock: Lock,
  ) {}

  static open(file: string, options: OpenOptions): ResultsFile {
    const format = formatOf(file);
    const lock = acquireLock(file);
    try {
      const done = options.fresh || !existsSync(file) ? fresh(file, format) : resume(file, format, options);
      const fd = openSync(file, 'a');
      return new ResultsFile(format, done, fd, lock);
    } catch (e) {
      lock.release();
      if (e instanceof EeroError) throw e;
      throw new EeroError('IO_ERROR', `cannot open ${file}: ${(e as Error).message}`, { cause: e });
    }
  }

  write(rows: ResultRow[]): void {
    if (rows.length === 0) return;
    writeSync(this.fd, rows.map((r) => formatRow(r, this.format)).join(''));
  }

  close(): void {
    closeSync(this.fd);
    this.lock.release();
  }
}

const pickRun = (r: RunSettings): RunSettings => ({ model: r.model, budget: r.budget, rule: r.rule, score: r.score, costUnit: r.costUnit });

function fresh(file: string, format: ResultsFormat): Set<string> {
  writeFileSync(file, format === 'csv' ? CSV_HEADER + '\n' : '');
  return new Set();
}

function resume(file: string, format: ResultsFormat, options: OpenOptions): Set<string> {
  const text = readFileSync(file, 'utf8');
  if (text.trim() === '') return fresh(file, format);
  if (format === 'csv' && text.slice(0, text.indexOf('\n')).replace(/\r$/, '') !== CSV_HEADER) {
    throw new EeroError(
      'RESULTS_MISMATCH',
      `${file} has another header than ${CSV_HEADER} (written by another version of eero, which did not record the rule, ` +
        'score and cost unit); start over with --fresh, or write to another --out',
      { details: { file } },
    );
  }
  const { rows, end } = readRows(text, format);
  const other = rows.find((r) => differences(r, options.run).length > 0);
  if (other) {
    throw new EeroError(
      'RESULTS_MISMATCH',
      `${file} holds results of ${describeRun(other)} (line ${other.line}); this run differs in ${describeDifferences(options.run, other)}; ` +
        'resume with the same --model, --budget, rule (--policy and its flags), --score and --cost-unit, or start over with --fresh',
      { details: { file, line: other.line, holds: pickRun(other), run: options.run } },
    );
  }
  const kept = options.retryErrors ? rows.filter((r) => !r.error) : rows;
  if (kept.length !== rows.length) {
    // Rewrite without the error rows (atomically), so their files get one row each once they run again.
    const head = format === 'csv' ? CSV_HEADER + '\n' : '';
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, head + kept.map((r) => r.text).join(''));
    renameSync(temporary, file);
  } else {
    const fd = openSync(file, 'r+');
    // Cut a torn last row (a kill -9 mid-write); whole rows stay.
    if (fstatSync(fd).size !== Buffer.byteLength(text.slice(0, end))) ftruncateSync(fd, Buffer.byteLength(text.slice(0, end)));
    closeSync(fd);
  }
  return new Set(kept.map((r) => r.file));
}

/**
 * One shard's part file read for a merge: whole rows only, or an error. A
 * resume forgives a torn last row (it runs that file again), but a merge
 * would silently lose the file, so there a torn row means "resume the shard".
 */
import { existsSync, readFileSync } from 'node:fs';
import { EeroError } from '../../errors';
import { CSV_HEADER, formatOf, readRows, type ResultsFormat, type StoredRow } from '../folder/row-format';

export interface Shard {
  file: string;
  format: ResultsFormat;
  rows: StoredRow[];
}

export function shardFormat(file: string): ResultsFormat {
  try {
    return formatOf(file);
  } catch (e) {
    throw new EeroError('BAD_PARAMETER', `${file}: a part file must end in .csv or .jsonl`, { cause: e });
  }
}

export function readShard(file: string): Shard {
  const format = shardFormat(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new EeroError('IO_ERROR', `cannot read ${file}: ${(e as Error).message}`, { cause: e, details: { file } });
  }
  if (existsSync(`${file}.lock`)) {
    // Only a warning: the lock's pid means nothing on another machine (a Job's pods), and a killed run leaves it behind.
    process.stderr.write(`merge: ${file}.lock exists: if a classify run is still writing ${file}, this merge misses its last rows\n`);
  }
  if (text.trim() === '') return { file, format, rows: [] };
  const header = CSV_HEADER;
  if (format === 'csv' && text.slice(0, text.indexOf('\n')).replace(/\r$/, '') !== header) {
    throw new EeroError('BAD_PARAMETER', `${file} is not an eero results file: its first line is not the header ${header}`, {
      details: { file },
    });
  }
  const { rows, end } = readRows(text, format);
  if (text.slice(end).trim() !== '') {
    throw new EeroError(
      'MERGE_INCOMPLETE',
      `${file} ends in a torn row: its classify run was interrupted; resume it (the same classify command) and merge again`,
      { details: { file } },
    );
  }
  if (format === 'jsonl') {
    const lines = text
      .slice(0, end)
      .split('\n')
      .filter((l) => l.trim() !== '').length;
    // readRows skips lines that are not rows (it serves resume); a merge must not drop one unseen.
    if (lines !== rows.length) {
      throw new EeroError('BAD_PARAMETER', `${file}: ${lines - rows.length} of its ${lines} lines are not result rows`, {
        details: { file },
      });
    }
  }
  return { file, format, rows };
}

/**
 * Each part's row checked against the manifest of its model before it is
 * merged: a row from a bug, a hand edit or another bundle of the same name
 * would otherwise count in the fleet's figures. A bad row is named by part
 * file and line.
 */
import { EeroError, ERROR_CODES } from '../../errors';
import type { StoredRow } from '../folder/row-format';

/** What a row is checked against: the manifest's name, cumulative MACs per exit and labels. */
export interface ManifestFacts {
  name: string;
  macs: readonly number[];
  labels: readonly string[];
}

/** Rows keep cost fractions to 6 decimals. */
const FRACTION_TOLERANCE = 1e-6;

function bad(part: string, row: StoredRow, field: string, why: string): EeroError {
  return new EeroError('BAD_PARAMETER', `${part}:${row.line}: ${why} (row of ${row.file}); the part is not what eero classify writes`, {
    details: { part, line: row.line, file: row.file, field },
  });
}

function checkAnswer(part: string, row: StoredRow, m: ManifestFacts): void {
  const exits = m.macs.length;
  const { exit, macs, costFraction: cf } = row;
  if (exit === undefined || !Number.isInteger(exit) || exit < 1 || exit > exits)
    throw bad(part, row, 'exit', `exit ${String(exit)} is not an exit of ${m.name} (1..${exits})`);
  const expected = m.macs[exit - 1] as number;
  if (macs !== expected) throw bad(part, row, 'macs', `macs ${String(macs)} is not the cost of exit ${exit} (${expected} in the manifest)`);
  if (cf === undefined || !(cf > 0 && cf <= 1)) throw bad(part, row, 'cost_fraction', `cost_fraction ${String(cf)} is not in (0, 1]`);
  if (row.costUnit === 'macs') {
    const want = expected / (m.macs[exits - 1] as number);
    if (Math.abs(cf - want) > FRACTION_TOLERANCE)
      throw bad(
        part,
        row,
        'cost_fraction',
        `cost_fraction ${cf} is not exit ${exit}'s share of the full model's MACs (${want.toFixed(6)})`,
      );
  } else if (row.costUnit === 'seconds') {
    // Measured seconds differ by machine; the full model is 1 all the same, and only it.
    if ((cf === 1) !== (exit === exits))
      throw bad(part, row, 'cost_fraction', `cost_fraction ${cf} at exit ${exit} of ${exits}: only the last exit costs the full model`);
  } else throw bad(part, row, 'cost_unit', `cost unit ${JSON.stringify(row.costUnit)} is neither macs nor seconds`);
  const label = row.label;
  if (label === undefined || !m.labels.includes(label))
    throw bad(part, row, 'label', `label ${JSON.stringify(label)} is not a class of ${m.name}`);
  if (row.classIndex === undefined || m.labels[row.classIndex] !== label)
    throw bad(part, row, 'class_index', `class_index ${String(row.classIndex)} is not the index of ${JSON.stringify(label)}`);
}

export function checkRow(part: string, row: StoredRow, m: ManifestFacts): void {
  if (row.model !== m.name)
    throw bad(part, row, 'model', `model ${row.model} is not ${m.name}, whose manifest the rows are checked against`);
  if (!row.error) return checkAnswer(part, row, m);
  // An own key: `in` would take "constructor" or "toString" for one of eero's codes.
  if (row.errorCode === undefined || !Object.prototype.hasOwnProperty.call(ERROR_CODES, row.errorCode))
    throw bad(part, row, 'error_code', `error code ${JSON.stringify(row.errorCode)} is not one of eero's`);
}

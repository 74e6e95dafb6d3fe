/** Splitting a stage's rows into those that leave and those that go on; gathering survivors. */
import { EeroError } from '../errors';

export interface RowSplit {
  /** Positions (in this stage's batch) of the rows that leave now. */
  leave: number[];
  /** Positions of the rows that run the next stage. */
  keep: number[];
}

export function splitRows(answer: Uint8Array | readonly boolean[] | void, rows: number, exit: number): RowSplit {
  if (answer === undefined || answer === null || answer.length !== rows) {
    throw new EeroError('INTERNAL', `onExit(${exit}) answered ${answer == null ? 'nothing' : `${answer.length} values`} for ${rows} rows`);
  }
  const leave: number[] = [];
  const keep: number[] = [];
  for (let i = 0; i < rows; i++) (answer[i] ? leave : keep).push(i);
  return { leave, keep };
}

/** Copy rows `keep` (each `rowSize` floats) of `data` into one new, dense array. */
export function gatherRows(data: Float32Array, rowSize: number, keep: readonly number[]): Float32Array {
  const out = new Float32Array(keep.length * rowSize);
  keep.forEach((row, i) => out.set(data.subarray(row * rowSize, (row + 1) * rowSize), i * rowSize));
  return out;
}

export function pickRows(rows: Int32Array, keep: readonly number[]): Int32Array {
  return Int32Array.from(keep, (i) => rows[i] as number);
}

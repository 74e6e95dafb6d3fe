/** The fleet's figures, summed row by row over every shard: what `eero merge` reports. */
import type { StoredRow } from '../folder/row-format';
import { labelFromFolder } from '../folder/run-folder';

export interface ShardTally {
  file: string;
  images: number;
  errors: number;
  /** Over the shard's answered rows: its own realised budget. */
  costFractionSum: number;
}

export interface FleetTally {
  images: number;
  errors: number;
  costFractionSum: number;
  macsSum: number;
  /** Answered rows per exit, index 0 = exit 1. */
  exitCounts: number[];
  /** Rows whose folder names a class, and how many were right. */
  labelled: number;
  correct: number;
  shards: ShardTally[];
}

export function emptyTally(): FleetTally {
  return { images: 0, errors: 0, costFractionSum: 0, macsSum: 0, exitCounts: [], labelled: 0, correct: 0, shards: [] };
}

/** Count one row; `labels` (the bundle's) turn folder names into classes, when known. */
export function countRow(fleet: FleetTally, shard: ShardTally, row: StoredRow, labels: readonly string[] | undefined): void {
  fleet.images++;
  shard.images++;
  if (row.error) {
    fleet.errors++;
    shard.errors++;
    return;
  }
  const cost = row.costFraction ?? 0;
  fleet.costFractionSum += cost;
  shard.costFractionSum += cost;
  fleet.macsSum += row.macs ?? 0;
  if (row.exit !== undefined && Number.isInteger(row.exit) && row.exit >= 1) {
    while (fleet.exitCounts.length < row.exit) fleet.exitCounts.push(0);
    fleet.exitCounts[row.exit - 1] = (fleet.exitCounts[row.exit - 1] ?? 0) + 1;
  }
  const y = labels ? labelFromFolder(row.file, labels) : undefined;
  if (y !== undefined) {
    fleet.labelled++;
    if (y === row.classIndex) fleet.correct++;
  }
}

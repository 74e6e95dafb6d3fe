/** What each exit of a model costs, in MACs and in the unit its router and ledger count. */
import { costUnitLabel, type CostUnit, type Manifest } from '../config';
import type { PathTimes } from '../engine';

export interface ModelCosts {
  /** Cumulative MACs per exit (manifest). */
  readonly macs: Float64Array;
  /** Cumulative cost per exit in `unit` (what the router and the ledger use). */
  readonly costs: Float64Array;
  readonly unit: CostUnit;
  /** "MACs" or "seconds", for messages. */
  readonly unitLabel: string;
  /** Measured cumulative seconds per image per exit at the serving batch size, when profiled. */
  readonly seconds: Float64Array | undefined;
  /** Each stage's measured time at a few batch sizes on each engine path, when profiled: what deadlines are planned with. */
  readonly batchTimes: PathTimes | undefined;
  /** costs[M]: the full model. */
  readonly full: number;
  readonly fullMacs: number;
}

export function modelCosts(manifest: Manifest, unit: CostUnit, seconds?: ArrayLike<number>, batchTimes?: PathTimes): ModelCosts {
  const macs = Float64Array.from(manifest.exits.map((e) => e.macs));
  const measured = seconds === undefined ? undefined : Float64Array.from(seconds);
  if (unit === 'seconds' && measured === undefined) throw new Error('modelCosts: the seconds unit needs measured seconds');
  const costs = unit === 'seconds' ? (measured as Float64Array) : macs;
  return {
    macs,
    costs,
    unit,
    unitLabel: costUnitLabel(unit),
    seconds: measured,
    batchTimes,
    full: costs[costs.length - 1] as number,
    fullMacs: macs[macs.length - 1] as number,
  };
}

/**
 * How much the accuracy numbers move: random re-splits of the pooled
 * (labelled) calibration + test outputs, EERO's temperature beta, and the
 * size of the calibration set.
 */
import { sweepBudgets, type ExitOutputs, type SweepMethod, type SweepPoint } from '../src/router';
import { EERO_MARGIN, fractionKey, SEED_METHODS } from './accuracy-sweep';
import { pool, resplit, subsample } from './support/outputs';

/** Per (method, budget fraction): one value per seed. */
export type SeedTable = Map<string, Map<number, { accuracy: number[]; cost: number[]; violations: number }>>;

export interface Resplits {
  seeds: number[];
  calibrationSize: number;
  testSize: number;
  table: SeedTable;
  /** Full model (last exit alone) and oracle accuracy per seed. */
  fullAccuracy: number[];
}

function record(table: SeedTable, p: SweepPoint, method = p.method): void {
  const m = table.get(method) ?? new Map<number, { accuracy: number[]; cost: number[]; violations: number }>();
  table.set(method, m);
  const key = fractionKey(p.budgetFraction);
  const cell = m.get(key) ?? { accuracy: [], cost: [], violations: 0 };
  m.set(key, cell);
  cell.accuracy.push(p.accuracy);
  cell.cost.push(p.costFraction);
  if (p.violation) cell.violations++;
}

/** Last-exit accuracy of a labelled set. */
function lastExitAccuracy(o: ExitOutputs): number {
  const k = o.classes;
  const z = o.logits[o.exits - 1] as Float32Array;
  let right = 0;
  for (let i = 0; i < o.images; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if ((z[i * k + c] as number) > (z[i * k + best] as number)) best = c;
    if (best === o.labels[i]) right++;
  }
  return right / o.images;
}

export function runResplits(
  calibration: ExitOutputs,
  test: ExitOutputs,
  costs: Float64Array,
  fractions: number[],
  seeds: number[],
  methods: readonly SweepMethod[] = SEED_METHODS,
): Resplits {
  const pooled = pool(calibration, test);
  const table: SeedTable = new Map();
  const fullAccuracy: number[] = [];
  for (const seed of seeds) {
    const split = resplit(pooled, calibration.images, seed);
    for (const p of sweepBudgets({ calibration: split.calibration, test: split.test, costs, fractions, methods })) record(table, p);
    fullAccuracy.push(lastExitAccuracy(split.test));
  }
  return { seeds, calibrationSize: calibration.images, testSize: test.images, table, fullAccuracy };
}

export const BETAS = [0.01, 0.02, 0.04, 0.1, 0.2];

/** EERO (margin) at each beta, on the shipped split. */
export function runBetas(calibration: ExitOutputs, test: ExitOutputs, costs: Float64Array, fractions: number[], betas = BETAS): SeedTable {
  const table: SeedTable = new Map();
  for (const beta of betas) {
    const methods: SweepMethod[] = [{ name: `beta ${beta}`, kind: 'eero', options: { score: 'margin', beta } }];
    for (const p of sweepBudgets({ calibration, test, costs, fractions, methods })) record(table, p);
  }
  return table;
}

export const CALIBRATION_SIZES = [500, 1000, 2000, 5000];

export interface CalibrationSizes {
  sizes: number[];
  /** Sizes asked for but larger than the calibration split. */
  skipped: number[];
  table: SeedTable;
}

/** EERO (margin) calibrated on random subsets of the calibration split, evaluated on the whole test split. */
export function runCalibrationSizes(
  calibration: ExitOutputs,
  test: ExitOutputs,
  costs: Float64Array,
  fractions: number[],
  seeds: number[],
  sizes = CALIBRATION_SIZES,
): CalibrationSizes {
  const table: SeedTable = new Map();
  const usable = sizes.filter((n) => n <= calibration.images);
  const methods: SweepMethod[] = [{ name: EERO_MARGIN, kind: 'eero', options: { score: 'margin' } }];
  for (const n of usable) {
    // The whole split has only one subset of its own size.
    for (const seed of n === calibration.images ? [seeds[0] as number] : seeds) {
      const sub = subsample(calibration, n, seed);
      for (const p of sweepBudgets({ calibration: sub, test, costs, fractions, methods })) record(table, p, `N = ${n}`);
    }
  }
  return { sizes: usable, skipped: sizes.filter((n) => n > calibration.images), table };
}

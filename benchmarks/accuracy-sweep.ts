/**
 * Accuracy against budget for EERO and its baselines on one split pair: the
 * sweep, the reference marks, the area under each curve over a common cost
 * range, and the overthinking gain.
 */
import { areaUnderCurve, referencePoints, sweepBudgets, type ExitOutputs, type SweepMethod, type SweepPoint } from '../src/router';

export const EERO_MARGIN = 'EERO (margin)';
export const GEOMETRIC = 'geometric (MSDNet)';
export const PATIENCE = 'patience';
export const GLOBAL = 'global threshold';

/** Every budgeted method the accuracy section reports. */
export const ACCURACY_METHODS: readonly SweepMethod[] = [
  { name: EERO_MARGIN, kind: 'eero', options: { score: 'margin' } },
  { name: 'EERO (maxprob)', kind: 'eero', options: { score: 'maxprob' } },
  { name: 'EERO (entropy)', kind: 'eero', options: { score: 'entropy' } },
  { name: GLOBAL, kind: 'global-threshold', options: { score: 'margin' } },
  { name: GEOMETRIC, kind: 'geometric', options: { score: 'margin' } },
  { name: PATIENCE, kind: 'patience' },
];

/** The methods re-run on every re-split (EERO's default score and the baselines). */
export const SEED_METHODS: readonly SweepMethod[] = ACCURACY_METHODS.filter(
  (m) => m.name !== 'EERO (maxprob)' && m.name !== 'EERO (entropy)',
);

export interface Sweep {
  fractions: number[];
  /** Calibrated on calibration, evaluated on test. */
  test: SweepPoint[];
  /** The same policies evaluated on the calibration split itself (where EERO's guarantee holds). */
  calibration: SweepPoint[];
  /** Each exit alone and the oracle, on test. */
  reference: SweepPoint[];
  fullAccuracy: number;
}

/** Budget fractions as map keys: f * full / full is not always f. */
export const fractionKey = (f: number): number => Math.round(f * 1e9) / 1e9;

export function runSweep(
  calibration: ExitOutputs,
  test: ExitOutputs,
  costs: Float64Array,
  fractions: number[],
  methods: readonly SweepMethod[] = ACCURACY_METHODS,
): Sweep {
  const testPoints = sweepBudgets({ calibration, test, costs, fractions, methods });
  const calPoints = sweepBudgets({ calibration, test: calibration, costs, fractions, methods });
  const reference = referencePoints(test, costs);
  const full = reference[costs.length - 1] as SweepPoint;
  return { fractions, test: testPoints.map(strip), calibration: calPoints.map(strip), reference, fullAccuracy: full.accuracy };
}

/** Drop the policy object (kept out of reports and memory). */
function strip(p: SweepPoint): SweepPoint {
  const { policy: _policy, ...rest } = p;
  return rest;
}

export function byMethod(points: readonly SweepPoint[]): Map<string, SweepPoint[]> {
  const out = new Map<string, SweepPoint[]>();
  for (const p of points) out.set(p.method, [...(out.get(p.method) ?? []), p]);
  return out;
}

export function pointAt(points: readonly SweepPoint[], method: string, fraction: number): SweepPoint | undefined {
  return points.find((p) => p.method === method && Math.abs(p.budgetFraction - fraction) < 1e-9);
}

export interface AucResult {
  /** Common range of realised cost fractions [lo, hi] over which every method has a curve. */
  range: [number, number];
  /** Mean accuracy over the range (area / width), per method. */
  meanAccuracy: Map<string, number>;
}

/** Linear interpolation of a method's accuracy at cost fraction x (points sorted by cost). */
function interpolate(s: SweepPoint[], x: number): number {
  for (let i = 1; i < s.length; i++) {
    const a = s[i - 1] as SweepPoint;
    const b = s[i] as SweepPoint;
    if (x >= a.costFraction && x <= b.costFraction) {
      const t = b.costFraction > a.costFraction ? (x - a.costFraction) / (b.costFraction - a.costFraction) : 1;
      return a.accuracy + t * (b.accuracy - a.accuracy);
    }
  }
  return (s[s.length - 1] as SweepPoint).accuracy;
}

/**
 * areaUnderCurve over the realised-cost range every method covers (no
 * extrapolation): each curve is cut at [lo, hi] by linear interpolation.
 */
export function commonRangeAuc(points: readonly SweepPoint[]): AucResult {
  const curves = [...byMethod(points)].map(([m, ps]) => [m, [...ps].sort((a, b) => a.costFraction - b.costFraction)] as const);
  const lo = Math.max(...curves.map(([, s]) => (s[0] as SweepPoint).costFraction));
  const hi = Math.min(...curves.map(([, s]) => (s[s.length - 1] as SweepPoint).costFraction));
  const meanAccuracy = new Map<string, number>();
  if (!(hi > lo)) return { range: [lo, hi], meanAccuracy };
  for (const [m, s] of curves) {
    const inside = s.filter((p) => p.costFraction > lo && p.costFraction < hi);
    const ends = [lo, hi].map((x) => ({ ...(s[0] as SweepPoint), costFraction: x, accuracy: interpolate(s, x) }));
    const clipped = [ends[0] as SweepPoint, ...inside, ends[1] as SweepPoint];
    meanAccuracy.set(m, (areaUnderCurve(clipped).get(m) ?? NaN) / (hi - lo));
  }
  return { range: [lo, hi], meanAccuracy };
}

export interface Overthinking {
  method: string;
  /** Largest accuracy minus the full model's, over budgets <= 100% (may be negative). */
  gain: number;
  budgetFraction: number;
  costFraction: number;
}

export function overthinking(points: readonly SweepPoint[], fullAccuracy: number): Overthinking[] {
  return [...byMethod(points)].map(([method, ps]) => {
    const best = ps.filter((p) => p.budgetFraction <= 1 + 1e-9).reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
    return { method, gain: best.accuracy - fullAccuracy, budgetFraction: best.budgetFraction, costFraction: best.costFraction };
  });
}

export interface Violation {
  split: 'calibration' | 'test';
  method: string;
  budgetFraction: number;
  costFraction: number;
}

export function violations(sweep: Sweep): Violation[] {
  const pick = (split: Violation['split'], ps: SweepPoint[]): Violation[] =>
    ps.filter((p) => p.violation).map((p) => ({ split, method: p.method, budgetFraction: p.budgetFraction, costFraction: p.costFraction }));
  return [...pick('calibration', sweep.calibration), ...pick('test', sweep.test)];
}

/**
 * Every default and enumeration of the service in one place: the policy file
 * schema, the serve config, the CLI flags, the HTTP parameters and the router
 * all read them from here.
 */

/** Confidence scores an exit can be judged by (larger = surer for each). */
export const SCORE_KINDS = ['margin', 'maxprob', 'entropy'] as const;
export type ScoreKind = (typeof SCORE_KINDS)[number];

/** What a budget counts: MACs from the manifest, or seconds measured per stage on the serving machine. */
export const COST_UNITS = ['macs', 'seconds'] as const;
export type CostUnit = (typeof COST_UNITS)[number];

export const DEFAULTS: {
  readonly budgetFraction: number;
  readonly score: ScoreKind;
  readonly beta: number;
  readonly costUnit: CostUnit;
  readonly topk: number;
  readonly modelPath: string;
  readonly inputPixels: number;
} = {
  /** The operator's budget B, as a fraction of the full model's cost. */
  budgetFraction: 0.5,
  score: 'margin',
  /** EERO's exponential-weights temperature (not the softmax temperature). */
  beta: 0.04,
  costUnit: 'macs',
  /** Classes listed per image. */
  topk: 5,
  /** The bundle served and classified with when none is named. */
  modelPath: 'models/resnet18-fmnist',
  /** Images whose declared size exceeds this many pixels are refused before decoding. */
  inputPixels: 40_000_000,
};

/**
 * The ranges of the routing parameters, shared by the policy file schema and
 * the flags/request parser, so that a value is valid everywhere or nowhere.
 * `above`/`below` are strict bounds, `min`/`max` inclusive.
 */
export const RANGES = {
  /** Below 1e-6 the exponential weights overflow (R / beta for R up to 1). */
  beta: { min: 1e-6, max: 100 },
  accuracyTarget: { above: 0, max: 1 },
  agreement: { above: 0, below: 1 },
  accuracyDrop: { above: 0, below: 1 },
  delta: { above: 0, max: 0.5 },
  deadlineMs: { above: 0, max: 3_600_000 },
} as const;

export type Range = { min?: number; max?: number; above?: number; below?: number };

export function inRange(v: number, r: Range): boolean {
  return (
    Number.isFinite(v) &&
    (r.min === undefined || v >= r.min) &&
    (r.max === undefined || v <= r.max) &&
    (r.above === undefined || v > r.above) &&
    (r.below === undefined || v < r.below)
  );
}

export function describeRange(r: Range): string {
  const parts = [
    r.above !== undefined ? `> ${r.above}` : r.min !== undefined ? `>= ${r.min}` : undefined,
    r.below !== undefined ? `< ${r.below}` : r.max !== undefined ? `<= ${r.max}` : undefined,
  ].filter(Boolean);
  return `a number ${parts.join(' and ')}`;
}

/** Shown in messages: "MACs" or "seconds". */
export function costUnitLabel(unit: CostUnit): string {
  return unit === 'macs' ? 'MACs' : 'seconds';
}

/**
 * Every default and enumeration of the service in one place: the policy file
 * schema, the serve config, the CLI flags, the HTTP parameters and the router
 * all read them from here.
 */

/** What a budget counts: MACs from the manifest, or seconds measured per stage on the serving machine. */
export const COST_UNITS = ['macs', 'seconds'] as const;
export type CostUnit = (typeof COST_UNITS)[number];

export const DEFAULTS: {
  readonly budgetFraction: number;
  readonly beta: number;
  readonly costUnit: CostUnit;
  readonly topk: number;
  readonly modelPath: string;
  readonly inputPixels: number;
  readonly maxSide: number;
  readonly maxAspectRatio: number;
  readonly decodeTimeoutSeconds: number;
  readonly largeImagePixels: number;
} = {
  /** The operator's budget B, as a fraction of the full model's cost. */
  budgetFraction: 0.5,
  /** EERO's exponential-weights temperature (not the softmax temperature). */
  beta: 0.04,
  costUnit: 'macs',
  /** Classes listed per image. */
  topk: 5,
  /** The bundle served and classified with when none is named. */
  modelPath: 'models/resnet18-fmnist',
  /** Images whose declared size exceeds this many pixels are refused before decoding. */
  inputPixels: 40_000_000,
  /**
   * Either side, from the header, before decoding. libvips spends about a
   * microsecond per row whatever its width: a 1 x 40,000,000 PNG (78 KB, within
   * the pixel limit) would hold a decoder for 10 s or more. 16384 is the WebP
   * limit and above any camera's side.
   */
  maxSide: 16_384,
  /** Longer side / shorter side, from the header: 100:1 is past any panorama or text line a classifier is given. */
  maxAspectRatio: 100,
  /** One image's decode is stopped after this (sharp's timeout); a 36-megapixel progressive JPEG takes about 1.2 s here. */
  decodeTimeoutSeconds: 5,
  /** Images declared above this many pixels decode in all decode slots but one, which stays free for smaller images. */
  largeImagePixels: 4_000_000,
};

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

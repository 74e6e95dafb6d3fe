import type { ExitOutputs } from '../config';
import { EeroError } from '../errors';
import type { ScoringOptions } from './scores';

export type { ExitOutputs };

/**
 * The same set after scoring: per exit, each image's confidence score and its
 * (tie-broken) prediction. Computed once and reused by every calibration and
 * simulation that shares the scoring options.
 */
export interface ScoredOutputs {
  images: number;
  exits: number;
  labels: Int32Array;
  scoring: Readonly<ScoringOptions>;
  /** scores[exit][image] */
  scores: Float64Array[];
  /** predictions[exit][image] */
  predictions: Int32Array[];
}

export function isScoredOutputs(data: ExitOutputs | ScoredOutputs): data is ScoredOutputs {
  return 'scores' in data;
}

/** Refuse shapes that would make the maths read out of bounds. */
export function validateExitOutputs(o: ExitOutputs): void {
  const bad = (why: string): never => {
    throw new EeroError('BAD_PARAMETER', `exit outputs: ${why}`);
  };
  if (!Number.isInteger(o.images) || o.images < 1) bad(`images must be a positive integer, got ${o.images}`);
  if (!Number.isInteger(o.exits) || o.exits < 1) bad(`exits must be a positive integer, got ${o.exits}`);
  // The margin needs a runner-up class.
  if (!Number.isInteger(o.classes) || o.classes < 2) bad(`classes must be an integer >= 2, got ${o.classes}`);
  if (o.labels.length !== o.images) bad(`${o.labels.length} labels for ${o.images} images`);
  if (o.logits.length !== o.exits) bad(`${o.logits.length} logit arrays for ${o.exits} exits`);
  o.logits.forEach((l, i) => {
    if (l.length !== o.images * o.classes) {
      bad(`exit ${i + 1} has ${l.length} logits, expected ${o.images} x ${o.classes}`);
    }
  });
}

import { EeroError } from '../errors';
import type { ExitOutputs, ScoredOutputs } from './exit-outputs';
import { isScoredOutputs, validateExitOutputs } from './exit-outputs';
import type { ScoringOptions } from './scores';
import { resolveScoring, scoreRow, softmaxRow } from './scores';
import type { ThresholdCacheOptions } from './threshold-cache';
import { ThresholdCache } from './threshold-cache';

/**
 * Recalibration without labels: agreement with the final exit stands in
 * for correctness. Relabelling each image with the final exit's own
 * prediction is all it takes, because everything downstream (exitErrorRates
 * for EERO's R[l], ThresholdCache, evaluatePolicy's accuracy) reads labels:
 * R[l] becomes exit l's disagreement rate with the final exit, R[M] = 0, and
 * "accuracy" becomes agreement. The thresholds come from these images'
 * scores, as always. No new maths, so nothing new to get wrong.
 */

/**
 * The final exit's prediction per row, tie-broken exactly as
 * computeExitScores does (noise of (seed, row, exit), softmax at the
 * temperature), so the labels match the scored predictions bit for bit.
 */
function finalExitPredictions(outputs: ExitOutputs, scoring: Partial<ScoringOptions> = {}): Int32Array {
  validateExitOutputs(outputs);
  const s = resolveScoring(scoring);
  const { images, classes } = outputs;
  const last = outputs.exits - 1;
  const logits = outputs.logits[last] as Float32Array;
  const probs = new Float64Array(classes);
  const scratch = new Float64Array(classes);
  const out = new Int32Array(images);
  for (let i = 0; i < images; i++) {
    softmaxRow(logits, i * classes, classes, s.temperature, probs);
    out[i] = scoreRow(probs, last, i, s, scratch).prediction;
  }
  return out;
}

/**
 * The same outputs with labels := the final exit's predictions (any labels
 * they had, or -1s, are replaced). Scored outputs keep their scoring; raw
 * ones are relabelled under `scoring` (its seed and temperature must be
 * those the result will be scored with, e.g. ThresholdCache's).
 */
export function withAgreementLabels(data: ExitOutputs, scoring?: Partial<ScoringOptions>): ExitOutputs;
export function withAgreementLabels(data: ScoredOutputs): ScoredOutputs;
export function withAgreementLabels(data: ExitOutputs | ScoredOutputs, scoring: Partial<ScoringOptions> = {}): ExitOutputs | ScoredOutputs {
  if (isScoredOutputs(data)) {
    const last = data.predictions[data.exits - 1];
    if (last === undefined) throw new EeroError('BAD_PARAMETER', 'scored outputs without exits');
    return { ...data, labels: Int32Array.from(last) };
  }
  return { ...data, labels: finalExitPredictions(data, scoring) };
}

/** Per exit, the share of rows whose prediction differs from the final exit's (label-free R[l]). */
export function disagreementRates(scored: ScoredOutputs): Float64Array {
  const m = scored.exits;
  const fin = scored.predictions[m - 1] as Int32Array;
  const out = new Float64Array(m);
  for (let l = 0; l < m - 1; l++) {
    const p = scored.predictions[l] as Int32Array;
    let differ = 0;
    for (let i = 0; i < scored.images; i++) if (p[i] !== fin[i]) differ++;
    out[l] = differ / scored.images;
  }
  return out;
}

export type AgreementCacheOptions = Omit<ThresholdCacheOptions, 'calibration' | 'errorRates'>;

/**
 * EERO thresholds for any budget from monitored, unlabelled traffic: a
 * ThresholdCache over the relabelled outputs, so R[l] is each exit's
 * disagreement rate and the thresholds are these images' score quantiles.
 * @internal For the tests.
 */
export function agreementThresholdCache(monitored: ExitOutputs, options: AgreementCacheOptions): ThresholdCache {
  const labelled = withAgreementLabels(monitored, { seed: options.seed, temperature: options.temperature });
  return new ThresholdCache({ ...options, calibration: labelled });
}

import { EeroError } from '../errors';
import type { ExitOutputs, ScoredOutputs } from './exit-outputs';
import { isScoredOutputs, validateExitOutputs } from './exit-outputs';
import type { ScoringOptions } from './scores';
import { resolveScoring, sameScoring, scoreRow, softmaxRow } from './scores';

/**
 * Scores and predictions of every exit for a whole set of outputs. Row `i`
 * uses noise key `i`, so `policy.decide` on row `i` with key `i` sees exactly
 * the same numbers (checked by the conformance suite).
 */
export function computeExitScores(outputs: ExitOutputs, scoring: Partial<ScoringOptions> = {}): ScoredOutputs {
  validateExitOutputs(outputs);
  const s = resolveScoring(scoring);
  const { images, exits, classes } = outputs;
  const probs = new Float64Array(classes);
  const scratch = new Float64Array(classes);
  const scores: Float64Array[] = [];
  const predictions: Int32Array[] = [];
  // Each row's history (policy.ts RowState): a score may read what the row saw at earlier exits.
  const history = { exit: -1, prediction: -1, streak: 0, margin: 0, maxMargin: 0, sumMargin: 0 };
  const streaks = new Int32Array(images);
  const margins = new Float64Array(images);
  const maxMargins = new Float64Array(images);
  const sumMargins = new Float64Array(images);
  for (let l = 0; l < exits; l++) {
    const logits = outputs.logits[l] as Float32Array;
    const previous = predictions[l - 1];
    const sc = new Float64Array(images);
    const pr = new Int32Array(images);
    for (let i = 0; i < images; i++) {
      softmaxRow(logits, i * classes, classes, s.temperature, probs);
      history.exit = l - 1;
      history.prediction = previous ? (previous[i] as number) : -1;
      history.streak = streaks[i] as number;
      history.margin = margins[i] as number;
      history.maxMargin = maxMargins[i] as number;
      history.sumMargin = sumMargins[i] as number;
      const r = scoreRow(probs, l, i, s, scratch, history);
      sc[i] = r.score;
      pr[i] = r.prediction;
      streaks[i] = r.prediction === history.prediction ? (streaks[i] as number) + 1 : 1;
      margins[i] = r.margin;
      maxMargins[i] = l === 0 ? r.margin : Math.max(maxMargins[i] as number, r.margin);
      sumMargins[i] = (sumMargins[i] as number) + r.margin;
    }
    scores.push(sc);
    predictions.push(pr);
  }
  return { images, exits, labels: outputs.labels, scoring: Object.freeze(s), scores, predictions };
}

/** Reuse scored outputs when their scoring matches; score raw outputs otherwise. */
export function ensureScored(data: ExitOutputs | ScoredOutputs, scoring: Readonly<ScoringOptions>): ScoredOutputs {
  if (!isScoredOutputs(data)) return computeExitScores(data, scoring);
  if (!sameScoring(data.scoring, scoring)) {
    throw new EeroError('BAD_PARAMETER', `scored outputs use ${JSON.stringify(data.scoring)}, the policy needs ${JSON.stringify(scoring)}`);
  }
  return data;
}

/**
 * R[l] of docs/eero.md: the error rate of each exit alone over the labelled rows.
 * Undefined when no row is labelled (the caller must then supply R).
 */
export function exitErrorRates(scored: ScoredOutputs): Float64Array | undefined {
  let labelled = 0;
  const wrong = new Float64Array(scored.exits);
  for (let i = 0; i < scored.images; i++) {
    const y = scored.labels[i] ?? -1;
    if (y < 0) continue;
    labelled++;
    for (let l = 0; l < scored.exits; l++) {
      if ((scored.predictions[l] as Int32Array)[i] !== y) wrong[l] = (wrong[l] as number) + 1;
    }
  }
  if (labelled === 0) return undefined;
  return wrong.map((w) => w / labelled);
}

/** Each exit's scores sorted ascending: all a threshold lookup needs. */
export function sortedExitScores(scored: ScoredOutputs): Float64Array[] {
  return scored.scores.map((s) => Float64Array.from(s).sort());
}

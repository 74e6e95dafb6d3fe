import type { ScoredOutputs } from '../exit-outputs';
import type { Flavour } from './guarantee';

export interface Losses {
  losses: number;
  disagreements: number;
  /** Rows the final exit gets right minus rows the early answer gets right (labelled rows; x / n is the accuracy drop). */
  accuracyLost: number;
  /** Sum over the rows, cost units. */
  cost: number;
}

/** Losses and total cost of one threshold vector on `rows`: each image leaves at the first exit it passes. */
export function lossesOf(scored: ScoredOutputs, thresholds: Float64Array, costs: Float64Array, rows: Int32Array, flavour: Flavour): Losses {
  const m = scored.exits;
  const fin = scored.predictions[m - 1] as Int32Array;
  let losses = 0;
  let disagreements = 0;
  let accuracyLost = 0;
  let cost = 0;
  for (let j = 0; j < rows.length; j++) {
    const i = rows[j] as number;
    let l = 0;
    while (l < m - 1 && ((scored.scores[l] as Float64Array)[i] as number) < (thresholds[l] as number)) l++;
    cost += costs[l] as number;
    const p = (scored.predictions[l] as Int32Array)[i] as number;
    const f = fin[i] as number;
    const y = scored.labels[i];
    if (p !== f) disagreements++;
    accuracyLost += Number(f === y) - Number(p === y);
    if (flavour === 'agreement' ? p !== f : p !== y && f === y) losses++;
  }
  return { losses, disagreements, accuracyLost, cost };
}

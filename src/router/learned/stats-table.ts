import { EeroError } from '../../errors';
import type { ExitOutputs, ScoredOutputs } from '../exit-outputs';
import { validateExitOutputs } from '../exit-outputs';
import { addTieNoise, softmaxRow } from '../scores';
import type { ScoringOptions } from '../scores';
import { advanceHistory, emptyHistory, exitStats, featureVector, marginOnly, type ExitStats, type FeatureName } from './features';
import { learnedScore, type LearnedParams } from './params';

/**
 * What every exit of every row of a set shows the learned score, computed
 * once: top-1, top-2, prediction and negated entropy of the tie-noised
 * probabilities. Row i uses noise key i, as `computeExitScores` does, so
 * predictions and margins equal those of the margin-scored outputs.
 */
export interface StatsTable {
  images: number;
  exits: number;
  /** 0 when built from scored outputs (they do not keep it). */
  classes: number;
  labels: Int32Array;
  /** [exit][row] */
  top1: Float64Array[];
  top2: Float64Array[];
  prediction: Int32Array[];
  /** NaN throughout when built from scored outputs (no probabilities). */
  negEntropy: Float64Array[];
  /** Whether the probabilities were seen (false: margins only, top2 = 0). */
  fromProbabilities: boolean;
}

export function computeStatsTable(outputs: ExitOutputs, scoring: Pick<ScoringOptions, 'seed' | 'temperature'>): StatsTable {
  validateExitOutputs(outputs);
  const { images, exits, classes } = outputs;
  const noisy = new Float64Array(classes);
  const t: StatsTable = {
    images,
    exits,
    classes,
    labels: outputs.labels,
    top1: [],
    top2: [],
    prediction: [],
    negEntropy: [],
    fromProbabilities: true,
  };
  for (let l = 0; l < exits; l++) {
    const logits = outputs.logits[l] as Float32Array;
    const [t1, t2, pr, ne] = [new Float64Array(images), new Float64Array(images), new Int32Array(images), new Float64Array(images)];
    for (let i = 0; i < images; i++) {
      softmaxRow(logits, i * classes, classes, scoring.temperature, noisy);
      addTieNoise(noisy, scoring.seed, i, l);
      const s = exitStats(noisy);
      [t1[i], t2[i], pr[i], ne[i]] = [s.top1, s.top2, s.prediction, s.negEntropy];
    }
    t.top1.push(t1);
    t.top2.push(t2);
    t.prediction.push(pr);
    t.negEntropy.push(ne);
  }
  return t;
}

/** From margin-scored outputs: top1 = margin, top2 = 0 (margin-only features only). */
export function statsTableFromScored(scored: ScoredOutputs): StatsTable {
  if (scored.scoring.score !== 'margin') {
    throw new EeroError('BAD_PARAMETER', `the learned score reads margins: scored outputs use "${scored.scoring.score}"`);
  }
  return {
    images: scored.images,
    exits: scored.exits,
    classes: 0,
    labels: scored.labels,
    top1: scored.scores,
    top2: scored.scores.map((s) => new Float64Array(s.length)),
    prediction: scored.predictions,
    negEntropy: scored.scores.map((s) => new Float64Array(s.length).fill(NaN)),
    fromProbabilities: false,
  };
}

export function assertComputable(table: StatsTable, names: readonly FeatureName[]): void {
  if (!table.fromProbabilities && !marginOnly(names)) {
    throw new EeroError(
      'BAD_PARAMETER',
      `learned features ${names.join(', ')} need the exit probabilities: pass raw exit outputs, not scored ones`,
    );
  }
}

function statsAt(t: StatsTable, l: number, i: number, out: ExitStats): ExitStats {
  out.top1 = (t.top1[l] as Float64Array)[i] as number;
  out.top2 = (t.top2[l] as Float64Array)[i] as number;
  out.prediction = (t.prediction[l] as Int32Array)[i] as number;
  out.negEntropy = (t.negEntropy[l] as Float64Array)[i] as number;
  return out;
}

/**
 * Calls `visit(exit, row, x)` with the features of every row at exits
 * 0..exits-2, each row's exits in order (its history advancing as it goes).
 */
export function forEachFeatureRow(
  t: StatsTable,
  names: readonly FeatureName[],
  visit: (exit: number, row: number, x: Float64Array) => void,
  rows: ArrayLike<number> = Int32Array.from({ length: t.images }, (_, i) => i),
): void {
  assertComputable(t, names);
  const x = new Float64Array(names.length);
  const s: ExitStats = { top1: 0, top2: 0, prediction: 0, negEntropy: 0 };
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r] as number;
    const h = emptyHistory();
    for (let l = 0; l < t.exits - 1; l++) {
      statsAt(t, l, i, s);
      visit(l, r, featureVector(names, s, h, x));
      advanceHistory(h, s);
    }
  }
}

/** Per exit 0..exits-2: the features of `rows` (row-major, rows.length x names.length). */
export function featureMatrices(t: StatsTable, names: readonly FeatureName[], rows?: ArrayLike<number>): Float64Array[] {
  const n = rows?.length ?? t.images;
  const d = names.length;
  const out = Array.from({ length: t.exits - 1 }, () => new Float64Array(n * d));
  forEachFeatureRow(t, names, (l, r, x) => (out[l] as Float64Array).set(x, r * d), rows);
  return out;
}

/** The learned score of every row at every exit; the last exit's is +Infinity (it always takes the rest). */
export function learnedScores(t: StatsTable, params: LearnedParams): Float64Array[] {
  const out = Array.from({ length: t.exits }, () => new Float64Array(t.images));
  (out[t.exits - 1] as Float64Array).fill(Infinity);
  forEachFeatureRow(t, params.features, (l, i, x) => ((out[l] as Float64Array)[i] = learnedScore(params, l, x)));
  return out;
}

/** y[exit][row] = 1 where the row's prediction at the exit equals its final exit's: the label-free target. */
export function agreementTargets(t: StatsTable, rows?: ArrayLike<number>): Uint8Array[] {
  const idx = rows ?? Int32Array.from({ length: t.images }, (_, i) => i);
  const last = t.prediction[t.exits - 1] as Int32Array;
  return t.prediction.slice(0, -1).map((p) => Uint8Array.from(idx, (i) => (p[i] === last[i] ? 1 : 0)));
}

/** The rows `rows` of a table, in that order (each keeps the noise of its original key). */
export function selectTableRows(t: StatsTable, rows: ArrayLike<number>): StatsTable {
  const pick = <A extends Float64Array | Int32Array>(a: A): A => {
    const out = new (a.constructor as new (n: number) => A)(rows.length);
    for (let r = 0; r < rows.length; r++) out[r] = a[rows[r] as number] as number;
    return out;
  };
  return {
    ...t,
    images: rows.length,
    labels: pick(t.labels),
    top1: t.top1.map(pick),
    top2: t.top2.map(pick),
    prediction: t.prediction.map(pick),
    negEntropy: t.negEntropy.map(pick),
  };
}

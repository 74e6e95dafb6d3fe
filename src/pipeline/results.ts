/** What the pipeline answers for one image. */
import { softmaxRow } from '../router';

export interface TopKEntry {
  label: string;
  classIndex: number;
  probability: number;
}

export interface TraceEntry {
  /** 1-based exit. */
  exit: number;
  score: number;
  label: string;
  probability: number;
}

/** Why an image stopped where it did. */
export type StopReason = 'confidence' | 'ledger' | 'deadline' | 'last-exit';

export interface ImageResult {
  label: string;
  classIndex: number;
  probability: number;
  topk: TopKEntry[];
  /** 1-based exit the image left at. */
  exit: number;
  exits: number;
  /** Cumulative MACs paid (manifest cost of this exit). */
  macs: number;
  /** Cost as a fraction of the full model, in the model's cost unit. */
  costFraction: number;
  /** True when the ledger or the deadline, not confidence, made the image stop. */
  forced: boolean;
  stoppedBy: StopReason;
  /** Version of the thresholds that routed it (bumped by each recalibration). */
  thresholdsVersion: number;
  /**
   * Under a certified rule only: true when the certified rule itself made the image stop (confidence
   * or the last exit), false when the ledger or a deadline forced it out first.
   */
  certified?: boolean;
  trace?: TraceEntry[];
}

/**
 * The k most probable classes, most probable first (the lower class index first on a tie). A partial
 * selection: k passes over the K probabilities, no sort and no index array (k is 1 unless asked).
 */
export function topK(probs: ArrayLike<number>, labels: readonly string[], k: number): TopKEntry[] {
  const count = Math.max(1, Math.min(k, probs.length));
  const out: TopKEntry[] = [];
  let prevP = Infinity;
  let prevI = -1;
  for (let j = 0; j < count; j++) {
    // The best class ranked after (prevP, prevI): lower probability, or equal probability and higher index.
    let best = -1;
    let bestP = -Infinity;
    for (let i = 0; i < probs.length; i++) {
      const p = probs[i] as number;
      const after = p < prevP || (p === prevP && i > prevI);
      if (after && (best < 0 || p > bestP)) {
        best = i;
        bestP = p;
      }
    }
    if (best < 0) break;
    out.push({ label: labels[best] ?? String(best), classIndex: best, probability: bestP });
    prevP = bestP;
    prevI = best;
  }
  return out;
}

/** What an engine path knows about one row once it has left: the facts every answer is built from. */
export interface RowOutcome {
  /** 0-based exit it left at. */
  exit: number;
  /** The policy's tie-broken prediction there. */
  prediction: number;
  stoppedBy: StopReason;
  /** The row's logits at its exit (`offset` into `logits`, K values). */
  logits: ArrayLike<number>;
  offset: number;
  topk: number;
  thresholdsVersion: number;
  /** The row was routed by a certified rule. */
  certifiedRule?: boolean;
  trace?: TraceEntry[] | undefined;
  /**
   * The row's softmax at T = 1 (K values), when the path has it already (the graph path at temperature
   * 1): not recomputed. Read during the call only, so a path may reuse one buffer for every row.
   */
  probs?: Float64Array | undefined;
}

/** The model facts an answer needs: labels and what each exit costs. */
export interface ResultContext {
  labels: readonly string[];
  /** Cumulative cost per exit in the model's cost unit, and in MACs. */
  costs: Float64Array;
  macs: Float64Array;
}

/**
 * The one builder of a per-image result, for every engine path (the one graph,
 * the stage chain, the full graph): HTTP JSON, v2 outputs, CSV and JSON Lines
 * are renderings of what it returns. Probabilities are the exit's softmax at T = 1.
 */
export function buildResult(o: RowOutcome, ctx: ResultContext): ImageResult {
  const k = ctx.labels.length;
  const m = ctx.costs.length;
  const probs = o.probs ?? softmaxRow(o.logits, o.offset, k);
  const result: ImageResult = {
    label: ctx.labels[o.prediction] ?? String(o.prediction),
    classIndex: o.prediction,
    probability: probs[o.prediction] as number,
    topk: topK(probs, ctx.labels, o.topk),
    exit: o.exit + 1,
    exits: m,
    macs: ctx.macs[o.exit] as number,
    costFraction: (ctx.costs[o.exit] as number) / (ctx.costs[m - 1] as number),
    forced: o.stoppedBy === 'deadline' || o.stoppedBy === 'ledger',
    stoppedBy: o.stoppedBy,
    thresholdsVersion: o.thresholdsVersion,
  };
  if (o.certifiedRule) result.certified = o.stoppedBy === 'confidence' || o.stoppedBy === 'last-exit';
  if (o.trace) result.trace = o.trace;
  return result;
}

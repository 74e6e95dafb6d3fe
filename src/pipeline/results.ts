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

export function topK(probs: Float64Array, labels: readonly string[], k: number): TopKEntry[] {
  const idx = Array.from(probs.keys()).sort((a, b) => (probs[b] as number) - (probs[a] as number) || a - b);
  return idx.slice(0, Math.max(1, Math.min(k, probs.length))).map((i) => ({
    label: labels[i] ?? String(i),
    classIndex: i,
    probability: probs[i] as number,
  }));
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
  const probs = softmaxRow(o.logits, o.offset, k);
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

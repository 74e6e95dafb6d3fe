/** What the pipeline answers for one image. */

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

/**
 * An exit score: one named strategy that turns a row's (tie-noised)
 * probabilities at one exit, and what the row saw at earlier exits, into a
 * confidence where larger always means surer, so that every policy uses the
 * one rule "exit when score >= threshold" (docs/eero.md "Score of one exit").
 */

/** What a row saw at the exits before this one (policy.ts keeps it in the row's state). */
export interface ExitHistory {
  /** 0-based exit decided last; -1 before the first. */
  readonly exit: number;
  /** Tie-broken prediction there (-1 before the first exit). */
  readonly prediction: number;
  /** Consecutive exits, ending at `exit`, that predicted `prediction`. */
  readonly streak: number;
  /** Margin (top1 - top2 of the noised probabilities) at `exit`, and the largest and the sum over exits 0..exit (0 before the first). */
  readonly margin: number;
  readonly maxMargin: number;
  readonly sumMargin: number;
}

/** What a score fitted to one model needs (the learned score's weights); undefined for the fixed scores. */
export type ScorerParams = unknown;

export interface Scorer {
  /** The name on every surface (`score=margin`, `--score margin`, `score: margin`). */
  readonly name: string;
  /** One line for help texts and the docs' options table. */
  readonly description: string;
  /**
   * The early-exit graph's `score_kind` code when the one graph computes this
   * score itself (a bundle's graph lists the codes it has: earlyExit.scores);
   * undefined when only the host can (the stage chain then routes).
   */
  readonly graphCode: number | undefined;
  /** Whether it needs a model's fitted params (ScoringOptions.params): the model must bring them. */
  readonly fitted: boolean;
  /** The score of `probs` (K tie-noised probabilities) at 0-based `exit`. */
  score(probs: ArrayLike<number>, exit: number, history: ExitHistory, params: ScorerParams): number;
}

/** Top-1 and top-2 probabilities (the first of equal values counts as top-1). */
export function topTwo(probs: ArrayLike<number>): { top1: number; top2: number } {
  let top1 = -Infinity;
  let top2 = -Infinity;
  for (let c = 0; c < probs.length; c++) {
    const p = probs[c] ?? -Infinity;
    if (p > top1) {
      top2 = top1;
      top1 = p;
    } else if (p > top2) {
      top2 = p;
    }
  }
  return { top1, top2 };
}

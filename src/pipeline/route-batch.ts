import type { BudgetChoice } from './budget-choice';
import { topK, type ImageResult, type TraceEntry } from './results';
import { softmaxRow, type RowState } from '../router';

/** Per-image controls of one batch row. */
export interface RowRequest {
  choice: BudgetChoice;
  topk: number;
  trace: boolean;
  /** Stable key for the seeded tie-breaking noise (e.g. a request sequence number). */
  key: number;
}

/**
 * The router's side of a stage-wise run: after each exit, which rows leave.
 * Holds each row's policy state, asks its ledger before a row goes on, and
 * turns the engine's final logits into results. Pure bookkeeping, no I/O.
 */
export class BatchRouter {
  private readonly states: RowState[];
  private readonly forced: Uint8Array;
  private readonly traces: TraceEntry[][];
  private readonly leave: Uint8Array;

  constructor(
    private readonly rows: RowRequest[],
    private readonly costs: Float64Array,
    private readonly labels: readonly string[],
  ) {
    this.states = rows.map((r) => r.choice.policy.createRowState(r.key));
    this.forced = new Uint8Array(rows.length);
    this.traces = rows.map(() => []);
    this.leave = new Uint8Array(rows.length);
    // Every image earns its budget and pays stage 1 on arrival.
    for (const r of rows) r.choice.ledger?.admit();
  }

  /** Called by the engine after exit `exit` (0-based) for the rows still running; 1 = leaves now. */
  onExit = (exit: number, logits: Float32Array, rowIds: Int32Array): Uint8Array => {
    const k = this.labels.length;
    const out = this.leave.subarray(0, rowIds.length);
    const last = exit === this.costs.length - 1;
    for (let j = 0; j < rowIds.length; j++) {
      const r = rowIds[j] as number;
      const req = this.rows[r] as RowRequest;
      const state = this.states[r] as RowState;
      let leaves = req.choice.policy.decideLogits(exit, logits, j * k, k, state);
      if (req.trace) {
        const p = softmaxRow(logits, j * k, k);
        this.traces[r]?.push({
          exit: exit + 1,
          score: state.score,
          label: this.labels[state.prediction] ?? String(state.prediction),
          probability: p[state.prediction] ?? NaN,
        });
      }
      if (
        !leaves &&
        !last &&
        req.choice.ledger &&
        !req.choice.ledger.mayContinue(this.costs[exit] as number, this.costs[exit + 1] as number)
      ) {
        leaves = true;
        this.forced[r] = 1;
      }
      out[j] = leaves || last ? 1 : 0;
    }
    return out;
  };

  /** Results from each row's exit and its logits there (`logits`: rows x K, in row order). */
  finish(exitOf: Int32Array, logits: Float32Array, macs: Float64Array): ImageResult[] {
    const k = this.labels.length;
    const full = this.costs[this.costs.length - 1] as number;
    return this.rows.map((req, r) => {
      const exit = exitOf[r] as number;
      const state = this.states[r] as RowState;
      req.choice.ledger?.settle(this.costs[exit] as number);
      const probs = softmaxRow(logits, r * k, k);
      // The label is the policy's tie-broken prediction at the exit, identical to calibration's.
      const cls = state.prediction >= 0 ? state.prediction : (topK(probs, this.labels, 1)[0]?.classIndex ?? 0);
      const result: ImageResult = {
        label: this.labels[cls] ?? String(cls),
        classIndex: cls,
        probability: probs[cls] as number,
        topk: topK(probs, this.labels, req.topk),
        exit: exit + 1,
        exits: this.costs.length,
        macs: macs[exit] as number,
        costFraction: (this.costs[exit] as number) / full,
        forced: this.forced[r] === 1,
      };
      if (req.trace) result.trace = this.traces[r];
      return result;
    });
  }
}

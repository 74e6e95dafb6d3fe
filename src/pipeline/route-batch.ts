import { argmax, type PoolSpender, softmaxRow, type RowState } from '../router';
import { buildResult, type ImageResult, type RowOutcome, type StopReason, type TraceEntry } from './results';
import type { RowMeta } from './row-meta';

/**
 * The router's side of a stage-by-stage run: after each exit, which rows
 * leave: by confidence (the row's policy), at the row's deadline cap, when
 * its request is gone, or when the batch's pool cannot pay the next step
 * (the ledger). Pure bookkeeping, no I/O.
 */
export class BatchRouter {
  private readonly states: RowState[];
  private readonly stopped: StopReason[];
  private readonly traces: TraceEntry[][];
  private readonly leave: Uint8Array;
  /** Exits the pool (not confidence) forced. */
  ledgerForced = 0;

  constructor(
    private readonly rows: readonly RowMeta[],
    /** Per row, the last exit (0-based) it may reach. */
    private readonly caps: Int32Array,
    private readonly spender: PoolSpender,
    private readonly labels: readonly string[],
    private readonly exits: number,
    private readonly signals: ReadonlyArray<AbortSignal | undefined> = [],
    /** Rows whose steps were paid up front (certified rows the ledger must not force). */
    private readonly exempt?: Uint8Array,
  ) {
    this.states = rows.map((r) => r.choice.policy.createRowState(r.key));
    this.stopped = rows.map(() => 'last-exit');
    this.traces = rows.map(() => []);
    this.leave = new Uint8Array(rows.length);
  }

  /** Called by the engine after exit `exit` (0-based) for the rows still running; 1 = leaves now. */
  onExit = (exit: number, logits: Float32Array, rowIds: Int32Array): Uint8Array => {
    const k = this.labels.length;
    const out = this.leave.subarray(0, rowIds.length);
    const last = exit === this.exits - 1;
    for (let j = 0; j < rowIds.length; j++) {
      const r = rowIds[j] as number;
      const meta = this.rows[r] as RowMeta;
      const state = this.states[r] as RowState;
      const confident = meta.choice.policy.decideLogits(exit, logits, j * k, k, state);
      if (meta.trace) this.traces[r]?.push(traceEntry(exit, logits, j * k, k, state, this.labels));
      out[j] = 1;
      if (last) this.stopped[r] = 'last-exit';
      else if (confident) this.stopped[r] = 'confidence';
      else if (exit >= (this.caps[r] as number)) this.stopped[r] = 'deadline';
      // A row whose request is gone stops here; it is still charged what it ran.
      else if (this.signals[r]?.aborted) this.stopped[r] = 'deadline';
      else if (this.exempt?.[r] === 1) out[j] = 0;
      else if (!this.spender.mayContinue(exit)) {
        this.stopped[r] = 'ledger';
        this.ledgerForced++;
      } else out[j] = 0;
    }
    return out;
  };

  /** Results from each row's exit and its logits there (`logits`: rows x K, in row order). */
  finish(exitOf: Int32Array, logits: Float32Array, costs: Float64Array, macs: Float64Array): ImageResult[] {
    const k = this.labels.length;
    const ctx = { labels: this.labels, costs, macs };
    return this.rows.map((meta, r) => {
      const state = this.states[r] as RowState;
      // The label is the policy's tie-broken prediction at the exit, identical to calibration's.
      const prediction = state.prediction >= 0 ? state.prediction : argmax(softmaxRow(logits, r * k, k));
      const outcome: RowOutcome = {
        exit: exitOf[r] as number,
        prediction,
        stoppedBy: this.stopped[r] as StopReason,
        logits,
        offset: r * k,
        topk: meta.topk,
        thresholdsVersion: meta.choice.version,
        certifiedRule: meta.choice.rule === 'certified',
        trace: meta.trace ? this.traces[r] : undefined,
      };
      return buildResult(outcome, ctx);
    });
  }
}

function traceEntry(exit: number, logits: Float32Array, offset: number, k: number, state: RowState, labels: readonly string[]): TraceEntry {
  const p = softmaxRow(logits, offset, k);
  return {
    exit: exit + 1,
    score: state.score,
    label: labels[state.prediction] ?? String(state.prediction),
    probability: p[state.prediction] ?? NaN,
  };
}

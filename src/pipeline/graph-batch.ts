/**
 * A batch through the one-graph early-exit network: per-row thresholds (a
 * deadline cap is a threshold the row always passes), the router's seeded
 * tie noise, one onnxruntime call. The graph scores and decides as the
 * router does (float64, same noise), so its exits equal the stage chain's.
 */
import type { EarlyExitGraph } from '../engine';
import {
  rowStream,
  scoreRow,
  scorerOf,
  softmaxRow,
  TIE_NOISE,
  type ExitPolicy,
  type PoolSpender,
  type ScoringOptions,
  type ThresholdPolicy,
} from '../router';
import { buildResult, type ImageResult, type StopReason, type TraceEntry } from './results';
import type { RowMeta } from './row-meta';

const isThresholdPolicy = (p: ExitPolicy): p is ThresholdPolicy => 'thresholds' in p && p.thresholds instanceof Float64Array;

/** Whether the graph can route this batch: threshold rules only, one score the graph computes, one temperature for all rows. */
export function graphCanRoute(metas: readonly RowMeta[]): boolean {
  const first = metas[0]?.choice.policy.scoring;
  return (
    first !== undefined &&
    scorerOf(first.score).graphCode !== undefined &&
    metas.every((m) => {
      const s = m.choice.policy.scoring;
      return isThresholdPolicy(m.choice.policy) && s.score === first.score && s.temperature === first.temperature && s.seed === first.seed;
    })
  );
}

export interface GraphBatch {
  results: ImageResult[];
  /** 0-based exit per row. */
  exits: Int32Array;
  /** Rows the ledger's grant stopped (below their threshold and their cap). */
  ledgerForced: number;
  ms: number;
}

/** The ledger's grant for the graph (EarlyExitRunOptions.ledger), from the batch's PoolSpender. */
export function graphGrant(spender: PoolSpender, costs: Float64Array): { credit: number; steps: Float64Array } {
  const steps = new Float64Array(costs.length - 1);
  for (let l = 0; l < steps.length; l++) steps[l] = (costs[l + 1] as number) - (costs[l] as number);
  return { credit: spender.grantable, steps };
}

export async function runGraphBatch(
  graph: EarlyExitGraph,
  input: Float32Array,
  metas: readonly RowMeta[],
  caps: Int32Array,
  labels: readonly string[],
  costs: Float64Array,
  macs: Float64Array,
  ledger?: { credit: number; steps: Float64Array },
): Promise<GraphBatch> {
  const n = metas.length;
  const m = costs.length;
  const k = labels.length;
  const scoring = (metas[0] as RowMeta).choice.policy.scoring;
  const thresholds = new Float64Array(n * m);
  const noise = new Float64Array(n * m * k);
  metas.forEach((meta, r) => {
    const policy = meta.choice.policy as ThresholdPolicy;
    for (let l = 0; l < m; l++) {
      // A cap is a threshold the row always passes: it leaves there at the latest.
      thresholds[r * m + l] = l === caps[r] ? -Infinity : (policy.thresholds[l] as number);
      const next = rowStream(scoring.seed, meta.key, l);
      for (let c = 0; c < k; c++) noise[(r * m + l) * k + c] = TIE_NOISE * next();
    }
  });
  // Without a trace only the outputs that route are fetched (each one fetched costs time at small batches).
  const detail = metas.some((meta) => meta.trace);
  const run = await graph.run(input, n, thresholds, scoring.temperature, noise, scorerOf(scoring.score).graphCode as number, {
    detail,
    ledger,
  });
  let ledgerForced = 0;
  const ctx = { labels, costs, macs };
  const results = metas.map((meta, r): ImageResult => {
    const exit = run.exits[r] as number;
    const probs = softmaxRow(run.logits, r * k, k, scoring.temperature);
    const { score, prediction } = scoreRow(probs, exit, meta.key, scoring);
    const tau = (meta.choice.policy as ThresholdPolicy).thresholds[exit] as number;
    // Below its threshold, a row left at its cap (deadline) or where the grant ran out (ledger).
    const stoppedBy: StopReason =
      exit === m - 1 ? 'last-exit' : score >= tau ? 'confidence' : exit >= (caps[r] as number) ? 'deadline' : 'ledger';
    if (stoppedBy === 'ledger') ledgerForced++;
    // The label is the policy's tie-broken prediction, as on the stage chain.
    return buildResult(
      {
        exit,
        prediction,
        stoppedBy,
        logits: run.logits,
        offset: r * k,
        topk: meta.topk,
        thresholdsVersion: meta.choice.version,
        certifiedRule: meta.choice.rule === 'certified',
        trace: meta.trace ? traceOf(run.reached, r, exit, meta, labels, scoring) : undefined,
      },
      ctx,
    );
  });
  return { results, exits: run.exits, ledgerForced, ms: run.ms };
}

function traceOf(
  reached: ReadonlyArray<{ rows: Int32Array; scores: Float64Array; logits: Float32Array }>,
  row: number,
  exit: number,
  meta: RowMeta,
  labels: readonly string[],
  scoring: Readonly<ScoringOptions>,
): TraceEntry[] {
  const k = labels.length;
  const out: TraceEntry[] = [];
  for (let l = 0; l <= exit; l++) {
    const at = reached[l];
    const j = at ? at.rows.indexOf(row) : -1;
    if (!at || j < 0) continue;
    const probs = softmaxRow(at.logits, j * k, k, scoring.temperature);
    const { prediction } = scoreRow(probs, l, meta.key, scoring);
    out.push({
      exit: l + 1,
      score: at.scores[j] as number,
      label: labels[prediction] ?? String(prediction),
      probability: softmaxRow(at.logits, j * k, k)[prediction] as number,
    });
  }
  return out;
}

/** Results of the network without exits: every row at the last exit, labelled by the policy's scoring there. */
export function fullResults(
  model: { labels: readonly string[]; costs: { costs: Float64Array; macs: Float64Array } },
  metas: readonly RowMeta[],
  logits: Float32Array,
): { results: ImageResult[]; exits: Int32Array } {
  const { labels } = model;
  const k = labels.length;
  const m = model.costs.costs.length;
  const ctx = { labels, costs: model.costs.costs, macs: model.costs.macs };
  const results = metas.map((meta, r): ImageResult => {
    const scoring = meta.choice.policy.scoring;
    const { prediction } = scoreRow(softmaxRow(logits, r * k, k, scoring.temperature), m - 1, meta.key, scoring);
    const outcome = { exit: m - 1, prediction, stoppedBy: 'last-exit' as const, logits, offset: r * k, topk: meta.topk };
    return buildResult({ ...outcome, thresholdsVersion: meta.choice.version, certifiedRule: meta.choice.rule === 'certified' }, ctx);
  });
  return { results, exits: new Int32Array(metas.length).fill(m - 1) };
}

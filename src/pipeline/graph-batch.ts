/**
 * A batch through the one-graph early-exit network: per-row thresholds (a
 * deadline cap is a threshold the row always passes), the router's seeded
 * tie noise, one onnxruntime call. The graph scores and decides as the
 * router does (float64, same noise), so its exits equal the stage chain's.
 */
import type { EarlyExitGraph, EarlyExitRun } from '../engine';
import {
  argmax,
  NO_HISTORY,
  fillRowNoise,
  scoreRow,
  scorerOf,
  softmaxRow,
  TIE_NOISE,
  type PoolSpender,
  type ScoringOptions,
  type ThresholdPolicy,
} from '../router';
import { learnedGraphWeights } from './graph-can-route';
import { buildResult, type ImageResult, type ResultContext, type StopReason, type TraceEntry } from './results';
import type { RowMeta } from './row-meta';

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

/** Reusable Float64Array buffers by length: a batch takes one and gives it back once its run is over. */
export class BufferPool {
  private readonly free = new Map<number, Float64Array[]>();

  take(length: number): Float64Array {
    return this.free.get(length)?.pop() ?? new Float64Array(length);
  }

  give(buffer: Float64Array): void {
    const list = this.free.get(buffer.length);
    if (list === undefined) this.free.set(buffer.length, [buffer]);
    // A few per length: batches in flight at once, not every size ever seen.
    else if (list.length < 4) list.push(buffer);
  }
}

const NO_POOL = new BufferPool();

/** The graph's per-row inputs: thresholds (a cap is -inf there: a threshold the row always passes) and the router's tie noise. */
function graphInputs(
  metas: readonly RowMeta[],
  caps: Int32Array,
  m: number,
  k: number,
  seed: number,
  pool: BufferPool,
): { thresholds: Float64Array; noise: Float64Array } {
  const n = metas.length;
  const thresholds = pool.take(n * m);
  const noise = pool.take(n * m * k);
  for (let r = 0; r < n; r++) {
    const meta = metas[r] as RowMeta;
    const tau = (meta.choice.policy as ThresholdPolicy).thresholds;
    const cap = caps[r] as number;
    for (let l = 0; l < m; l++) {
      thresholds[r * m + l] = l === cap ? -Infinity : (tau[l] as number);
      // The same doubles scoreRow adds (TIE_NOISE x the row's stream at this exit).
      fillRowNoise(seed, meta.key, l, TIE_NOISE, noise, (r * m + l) * k, k);
    }
  }
  return { thresholds, noise };
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
  pool: BufferPool = NO_POOL,
): Promise<GraphBatch> {
  const n = metas.length;
  const m = costs.length;
  const k = labels.length;
  const scoring = (metas[0] as RowMeta).choice.policy.scoring;
  const { thresholds, noise } = graphInputs(metas, caps, m, k, scoring.seed, pool);
  try {
    // Without a trace only the outputs that route are fetched (each one fetched costs time at small batches).
    const detail = metas.some((meta) => meta.trace);
    const scorer = scorerOf(scoring.score);
    const learnedWeights = scoring.score === 'learned' ? learnedGraphWeights(scoring.params, graph.spec.learnedFeatures) : undefined;
    // A score that reads the exit history cannot be recomputed from the exit's logits: where a row's score
    // tells why it stopped (a cap or a grant), the graph's is fetched.
    const scores = scorer.fitted && (ledger !== undefined || caps.some((c) => c < m - 1));
    const run = await graph.run(input, n, thresholds, scoring.temperature, noise, scorer.graphCode as number, {
      detail,
      ledger,
      scores,
      ...(learnedWeights === undefined ? {} : { learnedWeights }),
    });
    const results = graphResults(run, metas, caps, noise, { labels, costs, macs }, scoring, ledger !== undefined);
    return { ...results, exits: run.exits, ms: run.ms };
  } finally {
    pool.give(thresholds);
    pool.give(noise);
  }
}

/**
 * Each row's answer from the graph's exits and logits. The label is the policy's tie-broken prediction
 * (argmax of the tempered softmax plus the noise the graph was given, as scoreRow finds it). Why a row
 * stopped is known without its score where the graph had one reason only: before its cap and with no
 * grant, a row left by confidence. At its cap, or where the grant may have forced it, the score
 * (scoreRow's, on the same noisy probabilities; the graph's own for a score that reads the exit
 * history) tells confidence from the deadline or the ledger.
 */
function graphResults(
  run: EarlyExitRun,
  metas: readonly RowMeta[],
  caps: Int32Array,
  noise: Float64Array,
  ctx: ResultContext,
  scoring: Readonly<ScoringOptions>,
  granted: boolean,
): { results: ImageResult[]; ledgerForced: number } {
  const m = ctx.costs.length;
  const k = ctx.labels.length;
  const scorer = scorerOf(scoring.score);
  const unit = scoring.temperature === 1;
  const probs = new Float64Array(k);
  const noisy = new Float64Array(k);
  let ledgerForced = 0;
  const results = new Array<ImageResult>(metas.length);
  for (let r = 0; r < metas.length; r++) {
    const meta = metas[r] as RowMeta;
    const exit = run.exits[r] as number;
    softmaxRow(run.logits, r * k, k, scoring.temperature, probs);
    const at = (r * m + exit) * k;
    for (let c = 0; c < k; c++) noisy[c] = (probs[c] as number) + (noise[at + c] as number);
    const prediction = argmax(noisy);
    const cap = caps[r] as number;
    let stoppedBy: StopReason;
    if (exit === m - 1) stoppedBy = 'last-exit';
    else if (exit < cap && !granted) stoppedBy = 'confidence';
    else {
      const tau = (meta.choice.policy as ThresholdPolicy).thresholds[exit] as number;
      // Below its threshold, a row left at its cap (deadline) or where the grant ran out (ledger).
      // A score that reads the row's history (learned) comes from the graph; the others read none.
      const score = run.scores ? (run.scores[r] as number) : scorer.score(noisy, exit, NO_HISTORY, scoring.params);
      stoppedBy = score >= tau ? 'confidence' : exit >= cap ? 'deadline' : 'ledger';
    }
    if (stoppedBy === 'ledger') ledgerForced++;
    results[r] = buildResult(
      {
        exit,
        prediction,
        stoppedBy,
        logits: run.logits,
        offset: r * k,
        topk: meta.topk,
        thresholdsVersion: meta.choice.version,
        certifiedRule: meta.choice.rule === 'certified',
        trace: meta.trace ? traceOf(run.reached, r, exit, meta, ctx.labels, scoring) : undefined,
        // At temperature 1 the tempered softmax is the one the answer reports.
        probs: unit ? probs : undefined,
      },
      ctx,
    );
  }
  return { results, ledgerForced };
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

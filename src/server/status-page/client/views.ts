/** What the page shows, derived from the latest poll and the oldest one still in the window (no DOM). */
import { bucketIncrease, histogramQuantile, type Quantile } from './histogram';
import { increase, pick, sum, type LabelFilter, type Snapshot } from './prometheus';

const N = {
  images: 'eero_images_total',
  macs: 'eero_macs_spent_total',
  full: 'eero_model_full_cost_macs',
  target: 'eero_budget_target_ratio',
  credit: 'eero_ledger_credit_macs',
  forced: 'eero_forced_exits_total',
  version: 'eero_thresholds_version',
  queue: 'eero_queue_depth',
  batchImages: 'eero_inference_images_total',
  batches: 'eero_inference_executions_total',
  agreement: 'eero_monitor_agreement_ratio',
  agreementLower: 'eero_monitor_agreement_lower_ratio',
  agreementUpper: 'eero_monitor_agreement_upper_ratio',
  agreementSamples: 'eero_monitor_samples_total',
  agreementTarget: 'eero_monitor_agreement_target_ratio',
  requests: 'eero_requests_total',
  duration: 'eero_request_duration_seconds',
} as const;

/** What a model view needs of the model's boot description. */
export interface ViewedModel {
  name: string;
  fullMacs: number;
  budget: { limit: number };
  exits: ReadonlyArray<{ exit: number }>;
}

export interface Agreement {
  ratio: number;
  lower: number | undefined;
  upper: number | undefined;
  samples: number | undefined;
}

export interface WindowView {
  seconds: number;
  imagesPerSecond: number;
  images: number;
  realised: number | null;
}

export interface ModelView {
  images: number;
  byExit: Record<string, number>;
  macs: number;
  full: number;
  target: number;
  realised: number | null;
  forced: number;
  forcedByReason: Record<string, number>;
  thresholdsVersion: number | undefined;
  credit: number | undefined;
  queue: number | undefined;
  avgBatch: number | undefined;
  agreement: Agreement | null;
  agreementByExit: Record<string, Agreement | null>;
  agreementTarget: number | undefined;
  window: WindowView | null;
}

export interface RequestView {
  seconds: number;
  requests: number;
  perSecond: number;
  errors: number;
  p50: Quantile | undefined;
  p99: Quantile | undefined;
}

/** Sums of the series of `name` matching `want`, by the value of `label`. */
function sumBy(snap: Snapshot, name: string, want: LabelFilter, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of pick(snap, name, want)) {
    const key = String(s.labels[label]);
    out[key] = (out[key] || 0) + s.value;
  }
  return out;
}

/**
 * The monitor's agreement with the full model: gauges by {model, exit}, exit="all" over every answer, and
 * the samples counter by the exit the image had left at (so "all" is their sum). Null when there is
 * nothing to show: the monitor off or not yet exported, no sample yet, or no finite ratio.
 */
function agreementAt(snap: Snapshot, model: string, exit: string): Agreement | null {
  let want: LabelFilter = { model, exit };
  // A series without an exit label means every answer, like exit="all".
  if (exit === 'all' && pick(snap, N.agreement, want).length === 0) want = { model, exit: undefined };
  const ratio = sum(snap, N.agreement, want);
  const counted = pick(snap, N.agreementSamples, exit === 'all' ? { model } : want).filter((s) => s.labels.exit !== 'all');
  const samples = counted.length === 0 ? undefined : counted.reduce((a, s) => a + s.value, 0);
  if (ratio === undefined || !Number.isFinite(ratio) || samples === 0) return null;
  return { ratio, lower: sum(snap, N.agreementLower, want), upper: sum(snap, N.agreementUpper, want), samples };
}

function windowView(cur: Snapshot, prev: Snapshot, m: LabelFilter, images: number, macs: number, full: number): WindowView {
  const seconds = (cur.t - prev.t) / 1000;
  const dImages = increase(sum(prev, N.images, m), images) || 0;
  const dMacs = increase(sum(prev, N.macs, m), macs) || 0;
  return {
    seconds,
    imagesPerSecond: seconds > 0 ? dImages / seconds : 0,
    images: dImages,
    realised: dImages > 0 ? dMacs / dImages / full : null,
  };
}

/** What a model card shows, from the latest poll and the oldest one still in the window (prev, may be null). */
export function modelView(cur: Snapshot, prev: Snapshot | null, desc: ViewedModel): ModelView {
  const m = { model: desc.name };
  const images = sum(cur, N.images, m) || 0;
  const macs = sum(cur, N.macs, m) || 0;
  const full = sum(cur, N.full, m) || desc.fullMacs;
  const target = sum(cur, N.target, m);
  const forcedByReason = sumBy(cur, N.forced, m, 'reason');
  const batches = sum(cur, N.batches, m);
  const agreementByExit: Record<string, Agreement | null> = {};
  for (const e of desc.exits) agreementByExit[e.exit] = agreementAt(cur, desc.name, String(e.exit));
  return {
    images,
    byExit: sumBy(cur, N.images, m, 'exit'),
    macs,
    full,
    target: target === undefined ? desc.budget.limit : target,
    realised: images > 0 ? macs / images / full : null,
    forced: Object.values(forcedByReason).reduce((a, v) => a + v, 0),
    forcedByReason,
    thresholdsVersion: sum(cur, N.version, m),
    credit: sum(cur, N.credit, m),
    queue: sum(cur, N.queue, m),
    avgBatch: batches ? (sum(cur, N.batchImages, m) || 0) / batches : undefined,
    agreement: agreementAt(cur, desc.name, 'all'),
    agreementByExit,
    agreementTarget: sum(cur, N.agreementTarget, m),
    window: prev ? windowView(cur, prev, m, images, macs, full) : null,
  };
}

// Classify traffic only: the page's own polls of /metrics must not count in its latency.
const isClassifyRoute = (labels: Record<string, string>): boolean => labels.route === '/v1/classify' || /\/infer$/.test(labels.route || '');

function requestCounts(snap: Snapshot): { all: number; errors: number } {
  let all = 0;
  let errors = 0;
  for (const s of snap.byName.get(N.requests) ?? []) {
    if (!isClassifyRoute(s.labels)) continue;
    all += s.value;
    if (Number(s.labels.status) >= 400) errors += s.value;
  }
  return { all, errors };
}

/** Requests per second, errors and latency percentiles over the window; null before the second poll. */
export function requestView(cur: Snapshot, prev: Snapshot | null): RequestView | null {
  if (!prev) return null;
  const seconds = (cur.t - prev.t) / 1000;
  const c = requestCounts(cur);
  const p = requestCounts(prev);
  const buckets = bucketIncrease(prev, cur, N.duration, isClassifyRoute);
  // Both counts are defined, so increase() is too.
  const requests = increase(p.all, c.all) ?? 0;
  return {
    seconds,
    requests,
    perSecond: seconds > 0 ? requests / seconds : 0,
    errors: increase(p.errors, c.errors) ?? 0,
    p50: histogramQuantile(0.5, buckets),
    p99: histogramQuantile(0.99, buckets),
  };
}

/** Latency tables of the deadline benchmark: one phase (slice) of requests on one build, merged per build, as Markdown rows. */
import type { Reply } from './http-client';

export interface Phase {
  build: string;
  round: number;
  replies: Reply[];
  rate?: number;
  sendLagP99?: number;
  load: [number, number];
  serverCpu: number;
  wallS: number;
  metric?: { met: number; missed: number };
}

export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : (s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] as number);
}

/** Where the time went, by the service's own timings: medians of queue and inference, of the rest (decode, HTTP, scheduling), and the mean batch. */
function breakdown(ok: Reply[]): string {
  const t = ok.flatMap((r) => (r.timings ? [{ ...r.timings, rest: r.ms - r.timings.queueMs - r.timings.inferenceMs }] : []));
  if (t.length === 0) return '–';
  const med = (f: (x: (typeof t)[number]) => number): string => quantile(t.map(f), 0.5).toFixed(1);
  const batch = t.reduce((a, x) => a + x.batchSize, 0) / t.length;
  return `${med((x) => x.queueMs)} / ${med((x) => x.inferenceMs)} / ${med((x) => x.rest)}, ${batch.toFixed(1)}`;
}

export function row(p: Phase, deadline: number): string[] {
  const ok = p.replies.filter((r) => r.status === 200);
  const ms = ok.map((r) => r.ms);
  const within = (limit: number): string => `${((100 * ms.filter((m) => m <= limit).length) / Math.max(1, p.replies.length)).toFixed(1)}%`;
  const exits = new Map<number, number>();
  for (const r of ok) exits.set(r.exit ?? 0, (exits.get(r.exit ?? 0) ?? 0) + 1);
  const mix = [...exits]
    .sort((a, b) => a[0] - b[0])
    .map(([e, c]) => `${e}:${c}`)
    .join(' ');
  return [
    p.build,
    String(p.round),
    p.rate === undefined ? '–' : p.rate.toFixed(0),
    String(p.replies.length),
    String(ok.length),
    within(deadline),
    within(deadline * 1.1),
    quantile(ms, 0.5).toFixed(1),
    quantile(ms, 0.99).toFixed(1),
    Math.max(...ms).toFixed(1),
    mix,
    breakdown(ok),
    p.metric ? `${p.metric.met} / ${p.metric.missed}` : '–',
    p.sendLagP99 === undefined ? '–' : p.sendLagP99.toFixed(1),
    `${p.load[0].toFixed(1)} → ${p.load[1].toFixed(1)}`,
    (p.serverCpu / p.wallS).toFixed(2),
  ];
}

export const HEAD = [
  'build',
  'slices',
  'req/s',
  'sent',
  '200',
  `≤ D`,
  `≤ 1.1 D`,
  'p50 ms',
  'p99 ms',
  'max ms',
  'exits (exit:answers)',
  'median queue / inference / rest ms, mean batch',
  'service met / missed',
  'send lag p99 ms',
  'load avg (1 min)',
  'server CPU (cores)',
];

/** The slices of one build together: their replies, counters, CPU and wall time; load average from the lowest to the highest seen. */
export function merged(build: string, phases: Phase[]): Phase {
  const mine = phases.filter((p) => p.build === build);
  const metrics = mine.flatMap((p) => (p.metric ? [p.metric] : []));
  const lags = mine.flatMap((p) => (p.sendLagP99 === undefined ? [] : [p.sendLagP99]));
  const loads = mine.flatMap((p) => p.load);
  return {
    build,
    round: mine.length,
    replies: mine.flatMap((p) => p.replies),
    ...(mine[0]?.rate === undefined ? {} : { rate: mine[0].rate }),
    ...(lags.length ? { sendLagP99: Math.max(...lags) } : {}),
    load: [Math.min(...loads), Math.max(...loads)],
    serverCpu: mine.reduce((a, p) => a + p.serverCpu, 0),
    wallS: mine.reduce((a, p) => a + p.wallS, 0),
    ...(metrics.length
      ? { metric: { met: metrics.reduce((a, m) => a + m.met, 0), missed: metrics.reduce((a, m) => a + m.missed, 0) } }
      : {}),
  };
}

/** Share of a slice's requests answered within D, slice by slice in run order. */
export function perSlice(build: string, phases: Phase[], deadline: number): string {
  const shares = phases
    .filter((p) => p.build === build)
    .map(
      (p) =>
        `${((100 * p.replies.filter((r) => r.status === 200 && r.ms <= deadline).length) / Math.max(1, p.replies.length)).toFixed(0)}%`,
    );
  return `${build}: ${shares.join(', ')}`;
}

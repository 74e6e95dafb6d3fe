/**
 * The page's pure functions (no DOM): a tiny Prometheus text parser, windowed counter arithmetic,
 * histogram quantiles and number formats. Browser JavaScript kept as a string (document.ts says why);
 * it is one function expression returning its API, so a Node test can evaluate it without a browser.
 * String.raw keeps the regexes' backslashes; the code has no backticks and no template placeholders.
 */
export const STATUS_PAGE_LIB = String.raw`function () {
  'use strict';

  // Text exposition format 0.0.4: name{label="value",...} value [timestamp]. Comments and blanks are skipped.
  const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;
  const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"/g;

  function unescapeLabel(v) {
    return v.replace(/\\(n|\\|")/g, (_m, c) => (c === 'n' ? '\n' : c));
  }

  function parseValue(v) {
    if (v === '+Inf' || v === 'Inf') return Infinity;
    if (v === '-Inf') return -Infinity;
    return Number(v);
  }

  /** Every sample in a /metrics body: [{ name, labels, value }]. */
  function parsePrometheus(text) {
    const out = [];
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line === '' || line.charAt(0) === '#') continue;
      const m = LINE.exec(line);
      if (!m) continue;
      const labels = {};
      if (m[2]) for (const l of m[2].matchAll(LABEL)) labels[l[1]] = unescapeLabel(l[2]);
      out.push({ name: m[1], labels, value: parseValue(m[3]) });
    }
    return out;
  }

  /** One poll: its time (ms, monotonic) and its samples grouped by name. */
  function snapshot(text, t) {
    const byName = new Map();
    for (const s of parsePrometheus(text)) {
      const list = byName.get(s.name);
      if (list) list.push(s);
      else byName.set(s.name, [s]);
    }
    return { t, byName };
  }

  function matches(labels, want) {
    for (const k in want) if (labels[k] !== want[k]) return false;
    return true;
  }

  function pick(snap, name, want) {
    return (snap.byName.get(name) || []).filter((s) => matches(s.labels, want || {}));
  }

  /** Sum of the matching series; undefined when there is none (absent, not zero). */
  function sum(snap, name, want) {
    const list = pick(snap, name, want);
    return list.length === 0 ? undefined : list.reduce((a, s) => a + s.value, 0);
  }

  /** A counter's increase from prev to cur; a decrease means the service restarted (Prometheus' reset rule). */
  function increase(prev, cur) {
    if (prev === undefined || cur === undefined) return cur;
    return cur >= prev ? cur - prev : cur;
  }

  /** histogram_quantile over cumulative buckets [{ le, count }]: linear inside the bucket holding the rank. */
  function histogramQuantile(q, buckets) {
    const bs = buckets.slice().sort((a, b) => a.le - b.le);
    const last = bs[bs.length - 1];
    if (!last || last.le !== Infinity || !(last.count > 0)) return undefined;
    const rank = q * last.count;
    let lowerLe = 0;
    let lowerCount = 0;
    for (const b of bs) {
      if (b.count >= rank) {
        // In the +Inf bucket all we know is "above the highest bound" (Prometheus returns that bound).
        if (b.le === Infinity) return { seconds: lowerLe, above: true };
        const inside = b.count - lowerCount;
        return { seconds: inside > 0 ? lowerLe + ((b.le - lowerLe) * (rank - lowerCount)) / inside : b.le, above: false };
      }
      lowerLe = b.le;
      lowerCount = b.count;
    }
    return undefined;
  }

  /** Per-le increase of a histogram's buckets between two polls, summed over the series keep() accepts. */
  function bucketIncrease(prev, cur, name, keep) {
    const byLe = new Map();
    const add = (snap, sign) => {
      for (const s of snap.byName.get(name + '_bucket') || []) {
        if (!keep(s.labels)) continue;
        const le = parseValue(s.labels.le);
        byLe.set(le, (byLe.get(le) || 0) + sign * s.value);
      }
    };
    add(cur, 1);
    if (prev) add(prev, -1);
    return [...byLe].map(([le, count]) => ({ le, count: Math.max(0, count) }));
  }

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
  };

  /**
   * The monitor's agreement with the full model: gauges by {model, exit}, exit="all" over every answer, and
   * the samples counter by the exit the image had left at (so "all" is their sum). Null when there is
   * nothing to show: the monitor off or not yet exported, no sample yet, or no finite ratio.
   */
  function agreementAt(snap, model, exit) {
    let want = { model, exit };
    // A series without an exit label means every answer, like exit="all".
    if (exit === 'all' && pick(snap, N.agreement, want).length === 0) want = { model, exit: undefined };
    const ratio = sum(snap, N.agreement, want);
    const counted = pick(snap, N.agreementSamples, exit === 'all' ? { model } : want).filter((s) => s.labels.exit !== 'all');
    const samples = counted.length === 0 ? undefined : counted.reduce((a, s) => a + s.value, 0);
    if (ratio === undefined || !Number.isFinite(ratio) || samples === 0) return null;
    return { ratio, lower: sum(snap, N.agreementLower, want), upper: sum(snap, N.agreementUpper, want), samples };
  }

  /** What a model card shows, from the latest poll and the oldest one still in the window (prev, may be null). */
  function modelView(cur, prev, desc) {
    const m = { model: desc.name };
    const images = sum(cur, N.images, m) || 0;
    const byExit = {};
    for (const s of pick(cur, N.images, m)) byExit[s.labels.exit] = (byExit[s.labels.exit] || 0) + s.value;
    const macs = sum(cur, N.macs, m) || 0;
    const full = sum(cur, N.full, m) || desc.fullMacs;
    const target = sum(cur, N.target, m);
    const forcedByReason = {};
    for (const s of pick(cur, N.forced, m)) forcedByReason[s.labels.reason] = (forcedByReason[s.labels.reason] || 0) + s.value;
    const batches = sum(cur, N.batches, m);
    const agreement = agreementAt(cur, desc.name, 'all');
    const agreementByExit = {};
    for (const e of desc.exits) agreementByExit[e.exit] = agreementAt(cur, desc.name, String(e.exit));
    let win = null;
    if (prev) {
      const seconds = (cur.t - prev.t) / 1000;
      const dImages = increase(sum(prev, N.images, m), images) || 0;
      const dMacs = increase(sum(prev, N.macs, m), macs) || 0;
      win = { seconds, imagesPerSecond: seconds > 0 ? dImages / seconds : 0, images: dImages, realised: dImages > 0 ? dMacs / dImages / full : null };
    }
    return {
      images,
      byExit,
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
      agreement,
      agreementByExit,
      agreementTarget: sum(cur, N.agreementTarget, m),
      window: win,
    };
  }

  // Classify traffic only: the page's own polls of /metrics must not count in its latency.
  const isClassifyRoute = (labels) => labels.route === '/v1/classify' || /\/infer$/.test(labels.route || '');

  /** Requests per second, errors and latency percentiles over the window; null before the second poll. */
  function requestView(cur, prev) {
    if (!prev) return null;
    const seconds = (cur.t - prev.t) / 1000;
    const counts = (snap) => {
      let all = 0;
      let errors = 0;
      for (const s of snap.byName.get(N.requests) || []) {
        if (!isClassifyRoute(s.labels)) continue;
        all += s.value;
        if (Number(s.labels.status) >= 400) errors += s.value;
      }
      return { all, errors };
    };
    const c = counts(cur);
    const p = counts(prev);
    const buckets = bucketIncrease(prev, cur, N.duration, isClassifyRoute);
    const requests = increase(p.all, c.all);
    return {
      seconds,
      requests,
      perSecond: seconds > 0 ? requests / seconds : 0,
      errors: increase(p.errors, c.errors),
      p50: histogramQuantile(0.5, buckets),
      p99: histogramQuantile(0.99, buckets),
    };
  }

  const nf = (digits) => new Intl.NumberFormat(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const fmt = {
    int: (n) => nf(0).format(Math.round(n)),
    pct: (ratio, digits) => (ratio === null || ratio === undefined ? '—' : nf(digits === undefined ? 1 : digits).format(ratio * 100) + '%'),
    rate: (n) => nf(n >= 100 ? 0 : n >= 10 ? 1 : 2).format(n),
    seconds: (s) => (s >= 1 ? nf(2).format(s) + ' s' : nf(s >= 0.01 ? 0 : 1).format(s * 1000) + ' ms'),
    /** (34755264, 'MACs') -> "34.76 M MACs"; (262144, 'B') -> "262.14 kB" (a one-letter unit takes the prefix). */
    si: (n, unit) => {
      const steps = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
      for (const [f, p] of steps) if (Math.abs(n) >= f) return nf(2).format(n / f) + ' ' + p + (unit.length > 1 ? ' ' : '') + unit;
      return nf(0).format(n) + ' ' + unit;
    },
    ms: (n) => nf(n >= 10 ? 0 : 1).format(n) + ' ms',
  };

  return { parsePrometheus, snapshot, sum, increase, histogramQuantile, modelView, requestView, fmt };
}`;

import { register as globalRegistry } from 'prom-client';
import {
  LABEL_NAMES,
  METRIC_NAMES,
  OVERFLOW_LABEL_VALUE,
  createMetrics,
  createRegistry,
  metricsContentType,
  renderMetrics,
  type EeroMetrics,
  type MetricsRegistry,
} from '../../src/metrics';
import { parseExposition, valueOf, type Family } from './exposition';

async function scrape(registry: MetricsRegistry): Promise<Map<string, Family>> {
  const { body, contentType } = await renderMetrics(registry);
  expect(contentType).toBe(metricsContentType);
  return parseExposition(body);
}

function fresh(options: Parameters<typeof createMetrics>[1] = {}): { registry: MetricsRegistry; metrics: EeroMetrics } {
  const registry = createRegistry();
  return { registry, metrics: createMetrics(registry, options) };
}

describe('createMetrics', () => {
  test('registers every metric in METRIC_NAMES and nothing on the global registry', async () => {
    const { registry } = fresh();
    const families = await scrape(registry);
    expect([...families.keys()].sort()).toEqual(Object.values(METRIC_NAMES).sort());
    expect(await globalRegistry.getMetricsAsJSON()).toEqual([]);
  });

  test('names follow Prometheus conventions: prefix, base units, _total only on counters', async () => {
    const { registry } = fresh();
    for (const f of (await scrape(registry)).values()) {
      expect(f.name).toMatch(/^eero_[a-z0-9_]+$/);
      expect(f.help.length).toBeGreaterThan(10);
      expect(f.name.endsWith('_total')).toBe(f.type === 'counter');
      expect(f.name).not.toMatch(/_(ms|milliseconds|microseconds|us|percent|kb|mb)(_|$)/);
      if (f.type === 'histogram') expect(f.name).toMatch(/_seconds$|_ratio$|^eero_batch_size$/);
    }
  });

  test('recordImage counts images by exit, MACs spent and forced exits', async () => {
    const { registry, metrics } = fresh();
    metrics.setBudget('resnet18', 0.5, 1000);
    metrics.recordImage({ model: 'resnet18', exit: 1, macs: 300 });
    metrics.recordImage({ model: 'resnet18', exit: 1, macs: 300, forced: 'ledger' });
    metrics.recordImage({ model: 'resnet18', exit: 2, macs: 600, forced: 'deadline' });
    metrics.recordImage({ model: 'resnet18', exit: 3, macs: 1000 });
    metrics.observeRequestedBudget('resnet18', 0.35);
    metrics.recordReservation('resnet18', 2000, 1600);
    const f = await scrape(registry);
    const mp = { model: 'resnet18' };
    expect(valueOf(f, 'eero_images_total', { ...mp, exit: '1' })).toBe(2);
    expect(valueOf(f, 'eero_images_total', { ...mp, exit: '3' })).toBe(1);
    expect(valueOf(f, 'eero_macs_spent_total', mp)).toBe(2200);
    expect(valueOf(f, 'eero_forced_exits_total', { ...mp, reason: 'ledger' })).toBe(1);
    expect(valueOf(f, 'eero_forced_exits_total', { ...mp, reason: 'deadline' })).toBe(1);
    expect(valueOf(f, 'eero_budget_target_ratio', mp)).toBe(0.5);
    // A requested budget is an observation of a histogram, never a label value.
    expect(valueOf(f, 'eero_requested_budget_ratio_bucket', { ...mp, le: '0.4' })).toBe(1);
    expect(valueOf(f, 'eero_requested_budget_ratio_bucket', { ...mp, le: '0.3' })).toBe(0);
    expect(valueOf(f, 'eero_ledger_reserved_macs_total', mp)).toBe(2000);
    expect(valueOf(f, 'eero_ledger_used_macs_total', mp)).toBe(1600);
    expect(valueOf(f, 'eero_model_full_cost_macs', { model: 'resnet18' })).toBe(1000);
  });

  test('setBudget creates the cost counters at zero so that rate() sees them before any image', async () => {
    const { registry, metrics } = fresh();
    metrics.setBudget('convnext', 0.3, 2e9);
    const f = await scrape(registry);
    expect(valueOf(f, 'eero_macs_spent_total', { model: 'convnext' })).toBe(0);
    expect(valueOf(f, 'eero_forced_exits_total', { model: 'convnext', reason: 'ledger' })).toBe(0);
    expect(valueOf(f, 'eero_forced_exits_total', { model: 'convnext', reason: 'deadline' })).toBe(0);
  });

  test('deadline outcomes: created at zero by setBudget, then counted met or missed per model', async () => {
    const { registry, metrics } = fresh();
    metrics.setBudget('resnet18', 0.5, 1000);
    const before = await scrape(registry);
    expect(valueOf(before, 'eero_deadline_outcomes_total', { model: 'resnet18', result: 'met' })).toBe(0);
    expect(valueOf(before, 'eero_deadline_outcomes_total', { model: 'resnet18', result: 'missed' })).toBe(0);
    metrics.recordDeadline('resnet18', 'met');
    metrics.recordDeadline('resnet18', 'met');
    metrics.recordDeadline('resnet18', 'missed');
    const f = await scrape(registry);
    expect(valueOf(f, 'eero_deadline_outcomes_total', { model: 'resnet18', result: 'met' })).toBe(2);
    expect(valueOf(f, 'eero_deadline_outcomes_total', { model: 'resnet18', result: 'missed' })).toBe(1);
  });

  test('phases, stages, batches, requests and errors', async () => {
    const { registry, metrics } = fresh();
    metrics.observePhase('m', 'queue', 0.002);
    metrics.observePhase('m', 'inference', 0.03);
    metrics.observeStage('m', 2, 0.004);
    metrics.observeBatch('m', 8, 'graph');
    metrics.observeBatch('m', 2);
    metrics.recordRequest('/v1/classify', 200, 0.04);
    metrics.recordRequest('/v1/classify', 415, 0.001);
    metrics.recordError('UNSUPPORTED_FORMAT');
    const f = await scrape(registry);
    expect(valueOf(f, 'eero_phase_duration_seconds_count', { model: 'm', phase: 'queue' })).toBe(1);
    expect(valueOf(f, 'eero_phase_duration_seconds_sum', { model: 'm', phase: 'inference' })).toBeCloseTo(0.03, 12);
    expect(valueOf(f, 'eero_stage_duration_seconds_bucket', { model: 'm', stage: '2', le: '0.005' })).toBe(1);
    expect(valueOf(f, 'eero_stage_duration_seconds_bucket', { model: 'm', stage: '2', le: '0.0025' })).toBe(0);
    expect(valueOf(f, 'eero_inference_executions_total', { model: 'm', path: 'graph' })).toBe(1);
    expect(valueOf(f, 'eero_inference_executions_total', { model: 'm', path: 'stages' })).toBe(1);
    expect(valueOf(f, 'eero_inference_images_total', { model: 'm' })).toBe(10);
    expect(valueOf(f, 'eero_batch_size_bucket', { model: 'm', le: '2' })).toBe(1);
    expect(valueOf(f, 'eero_batch_size_bucket', { model: 'm', le: '8' })).toBe(2);
    const batchBounds = f
      .get('eero_batch_size')
      ?.samples.filter((s) => s.name === 'eero_batch_size_bucket')
      .map((s) => s.labels.le);
    expect(batchBounds).toEqual(['1', '2', '4', '8', '16', '32', '64', '128', '+Inf']);
    expect(valueOf(f, 'eero_requests_total', { route: '/v1/classify', status: '415' })).toBe(1);
    expect(valueOf(f, 'eero_request_duration_seconds_count', { route: '/v1/classify' })).toBe(2);
    expect(valueOf(f, 'eero_errors_total', { code: 'UNSUPPORTED_FORMAT' })).toBe(1);
  });

  test('every label used is one of the bounded label names', async () => {
    const { registry, metrics } = fresh();
    metrics.setBudget('m', 0.5, 10);
    metrics.recordImage({ model: 'm', exit: 2, macs: 5, forced: 'ledger' });
    metrics.observeRequestedBudget('m', 0.5);
    metrics.observePhase('m', 'preprocess', 0.01);
    metrics.observeStage('m', 1, 0.01);
    metrics.observeBatch('m', 1);
    metrics.recordRequest('/v1/classify', 200, 0.01);
    metrics.recordError('INTERNAL');
    metrics.setLedgerSource(() => [{ model: 'm', creditMacs: 3, thresholdsVersion: 1 }]);
    metrics.setQueueDepthSource(() => [{ model: 'm', depth: 1 }]);
    metrics.recordMonitorSample('m', 1, true, 10);
    metrics.setAgreementTarget('m', 0.99);
    metrics.setAgreementSource(() => [{ model: 'm', exit: 'all', ratio: 0.995, lower: 0.98, upper: 0.999 }]);
    const allowed = new Set<string>([...LABEL_NAMES, 'le']);
    for (const f of (await scrape(registry)).values()) {
      expect(f.samples.length).toBeGreaterThan(0);
      for (const s of f.samples) for (const label of Object.keys(s.labels)) expect(allowed).toContain(label);
    }
  });

  test('label values past the limit fold into "other" and are reported', async () => {
    const overflowed: string[] = [];
    const { registry, metrics } = fresh({ labelValueLimit: 3, onLabelOverflow: (label, value) => overflowed.push(`${label}=${value}`) });
    for (let i = 0; i < 10; i++) metrics.recordRequest(`/images/${i}`, 200, 0.01);
    const routes = (await scrape(registry)).get('eero_requests_total')?.samples.map((s) => s.labels.route);
    expect(routes).toEqual(['/images/0', '/images/1', '/images/2', OVERFLOW_LABEL_VALUE]);
    expect(valueOf(await scrape(registry), 'eero_requests_total', { route: OVERFLOW_LABEL_VALUE })).toBe(7);
    expect(overflowed).toHaveLength(7);
    expect(overflowed[0]).toBe('route=/images/3');
  });

  test('invalid numbers are programming errors', () => {
    const { metrics } = fresh();
    expect(() => metrics.recordImage({ model: 'm', exit: 0, macs: 1 })).toThrow(RangeError);
    expect(() => metrics.recordImage({ model: 'm', exit: 1, macs: -1 })).toThrow(RangeError);
    expect(() => metrics.observePhase('m', 'queue', Number.NaN)).toThrow(RangeError);
    expect(() => metrics.observeBatch('m', 0)).toThrow(RangeError);
    expect(() => metrics.setBudget('m', -0.1, 10)).toThrow(RangeError);
  });

  test('a second createMetrics on the same registry is refused; another registry is independent', async () => {
    const { registry, metrics } = fresh();
    expect(() => createMetrics(registry)).toThrow();
    const other = fresh();
    metrics.recordError('INTERNAL');
    expect(valueOf(await scrape(other.registry), 'eero_errors_total', { code: 'INTERNAL' })).toBeUndefined();
  });
});

describe('the live agreement monitor', () => {
  test('samples and agreements are counted by exit, monitor MACs apart, and the agreement with its bounds read at scrape time', async () => {
    const { registry, metrics } = fresh();
    metrics.recordMonitorSample('r', 2, true, 1000);
    metrics.recordMonitorSample('r', 2, false, 1000);
    metrics.recordMonitorSample('r', 8, true, 1000);
    metrics.setAgreementTarget('r', 0.99);
    metrics.setAgreementSource(() => [
      { model: 'r', exit: '2', ratio: 0.5, lower: 0.09, upper: 0.91 },
      { model: 'r', exit: 'all', ratio: 0.9, lower: 0.7, upper: NaN },
    ]);
    const f = await scrape(registry);
    expect(valueOf(f, 'eero_monitor_samples_total', { model: 'r', exit: '2' })).toBe(2);
    expect(valueOf(f, 'eero_monitor_agreements_total', { model: 'r', exit: '2' })).toBe(1);
    expect(valueOf(f, 'eero_monitor_macs_total', { model: 'r' })).toBe(3000);
    expect(valueOf(f, 'eero_monitor_agreement_ratio', { model: 'r', exit: 'all' })).toBe(0.9);
    expect(valueOf(f, 'eero_monitor_agreement_lower_ratio', { model: 'r', exit: '2' })).toBe(0.09);
    // A bound that is not a number (no samples) is left out rather than exported as NaN.
    expect(valueOf(f, 'eero_monitor_agreement_upper_ratio', { model: 'r', exit: 'all' })).toBeUndefined();
    expect(valueOf(f, 'eero_monitor_agreement_target_ratio', { model: 'r' })).toBe(0.99);
  });
});

describe('gauges computed at scrape time', () => {
  test('ledger credit, thresholds version and queue depth are read from their sources on every scrape', async () => {
    const { registry, metrics } = fresh();
    let credit = 1500;
    let depth = 4;
    let reads = 0;
    metrics.setLedgerSource(() => {
      reads++;
      return [
        { model: 'resnet18', creditMacs: credit, thresholdsVersion: 1 },
        { model: 'convnext', creditMacs: 0, thresholdsVersion: 3 },
      ];
    });
    metrics.setQueueDepthSource(function* () {
      yield { model: 'resnet18', depth };
    });
    expect(reads).toBe(0);
    let f = await scrape(registry);
    // One read per gauge that uses the source (credit and version).
    expect(reads).toBe(2);
    expect(valueOf(f, 'eero_ledger_credit_macs', { model: 'resnet18' })).toBe(1500);
    expect(valueOf(f, 'eero_thresholds_version', { model: 'convnext' })).toBe(3);
    expect(valueOf(f, 'eero_queue_depth', { model: 'resnet18' })).toBe(4);
    credit = 10;
    depth = 0;
    f = await scrape(registry);
    expect(valueOf(f, 'eero_ledger_credit_macs', { model: 'resnet18' })).toBe(10);
    expect(valueOf(f, 'eero_queue_depth', { model: 'resnet18' })).toBe(0);
  });

  test('a series that leaves the source leaves the scrape; no source means no series', async () => {
    const { registry, metrics } = fresh();
    let models = ['a', 'b'];
    metrics.setQueueDepthSource(() => models.map((model) => ({ model, depth: 1 })));
    expect((await scrape(registry)).get('eero_queue_depth')?.samples).toHaveLength(2);
    models = ['b'];
    expect((await scrape(registry)).get('eero_queue_depth')?.samples.map((s) => s.labels.model)).toEqual(['b']);
    metrics.setQueueDepthSource(undefined);
    expect((await scrape(registry)).get('eero_queue_depth')?.samples).toHaveLength(0);
  });

  test('a throwing source empties its gauge, is reported, and does not fail the scrape', async () => {
    const errors: string[] = [];
    const { registry, metrics } = fresh({ onSourceError: (metric) => errors.push(metric) });
    metrics.setQueueDepthSource(() => [{ model: 'a', depth: 2 }]);
    metrics.setLedgerSource(() => {
      throw new Error('ledger gone');
    });
    const f = await scrape(registry);
    expect(f.get('eero_ledger_credit_macs')?.samples).toHaveLength(0);
    expect(valueOf(f, 'eero_queue_depth', { model: 'a' })).toBe(2);
    expect(errors).toEqual(['eero_ledger_credit_macs', 'eero_thresholds_version']);
  });
});

describe('createRegistry', () => {
  test('defaultMetrics adds the standard unprefixed process_ and nodejs_ metrics', async () => {
    const registry = createRegistry({ defaultMetrics: true });
    createMetrics(registry);
    const names = [...(await scrape(registry)).keys()];
    expect(names).toContain('process_cpu_user_seconds_total');
    expect(names).toContain('process_resident_memory_bytes');
    expect(names).toContain('nodejs_heap_size_used_bytes');
    expect(names.filter((n) => !n.startsWith('eero_')).every((n) => /^(process|nodejs)_/.test(n))).toBe(true);
  });

  test('without the option the registry holds only what is registered on it', async () => {
    expect(await createRegistry().getMetricsAsJSON()).toEqual([]);
    expect(metricsContentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  REALISED_BUDGET_RATIO_PROMQL,
  RECORDING_RULES,
  createMetrics,
  createRegistry,
  renderMetrics,
  type EeroMetrics,
} from '../../src/metrics';
import { RULES_FILE, dashboardExpressions, readDashboard, withVariablesExpanded } from '../deploy/deploy-files';
import { hasBinary, startPrometheus, type PrometheusHandle } from '../support/prometheus';

const hasPrometheus = hasBinary('prometheus');
const suite = hasPrometheus ? describe : describe.skip;
const why = hasPrometheus ? '' : ' [skipped: prometheus is not on PATH]';

const FULL = 1000;
/** One batch of traffic: two images leave at exit 1 (300 MACs), one at exit 3 (1000). */
function classifyBatch(metrics: EeroMetrics): void {
  metrics.recordImage({ model: 'resnet18', exit: 1, macs: 300 });
  metrics.recordImage({ model: 'resnet18', exit: 1, macs: 300, forced: 'ledger' });
  metrics.recordImage({ model: 'resnet18', exit: 3, macs: 1000 });
  metrics.observeBatch('resnet18', 3);
  metrics.observeRequestedBudget('resnet18', 0.5);
  metrics.recordReservation('resnet18', 1500, 1600 / 2);
  metrics.recordMonitorSample('resnet18', 1, true, FULL);
  metrics.recordDeadline('resnet18', 'met');
  metrics.recordDeadline('resnet18', 'missed');
  metrics.recordRequest('/v1/classify', 200, 0.02);
  metrics.recordRequest('/v1/classify', 415, 0.001);
  metrics.recordError('UNSUPPORTED_FORMAT');
  for (const phase of ['queue', 'preprocess', 'inference'] as const) metrics.observePhase('resnet18', phase, 0.004);
  for (const stage of [1, 2, 3]) metrics.observeStage('resnet18', stage, 0.001);
}

suite(`a real Prometheus scrapes createMetrics' registry${why}`, () => {
  let server: Server | undefined;
  let prometheus: PrometheusHandle | undefined;
  let metrics: EeroMetrics;

  beforeAll(async () => {
    const registry = createRegistry({ defaultMetrics: true });
    metrics = createMetrics(registry);
    metrics.setBudget('resnet18', 0.5, FULL);
    metrics.setLedgerSource(() => [{ model: 'resnet18', creditMacs: 250, thresholdsVersion: 1 }]);
    metrics.setQueueDepthSource(() => [{ model: 'resnet18', depth: 2 }]);
    metrics.setAgreementTarget('resnet18', 0.99);
    metrics.setAgreementSource(() => [{ model: 'resnet18', exit: 'all', ratio: 0.995, lower: 0.98, upper: 0.999 }]);
    server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      renderMetrics(registry).then(
        ({ contentType, body }) => res.writeHead(200, { 'Content-Type': contentType }).end(body),
        (e: unknown) => res.writeHead(500).end(String(e)),
      );
    });
    await new Promise<void>((done) => server?.listen(0, '127.0.0.1', done));
    const { port } = server.address() as AddressInfo;
    prometheus = await startPrometheus({ targets: [`127.0.0.1:${port}`], scrapeIntervalSeconds: 1, rulesFile: RULES_FILE });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await new Promise<void>((done) => (server === undefined ? done() : server.close(() => done())));
  });

  test('counters, scrape-time gauges and the realised budget ratio come out as recorded', async () => {
    const p = prometheus as PrometheusHandle;
    classifyBatch(metrics);
    await p.waitForScrapes(2);
    // Same mix again, so that every series grows in the same proportion and rate() ratios are exact.
    classifyBatch(metrics);
    await p.waitForValue('sum(eero_images_total)', (v) => v === 6);
    await p.waitForScrapes(4);

    expect(await p.query('sum(eero_images_total)')).toBe(6);
    expect(await p.query('sum(eero_images_total{exit="1"})')).toBe(4);
    expect(await p.query('sum(eero_macs_spent_total)')).toBe(3200);
    expect(await p.query('sum(eero_forced_exits_total)')).toBe(2);
    expect(await p.query('eero_ledger_credit_macs')).toBe(250);
    expect(await p.query('eero_thresholds_version')).toBe(1);
    expect(await p.query('eero_queue_depth')).toBe(2);
    expect(await p.query('sum(eero_inference_images_total) / sum(eero_inference_executions_total)')).toBe(3);
    expect(await p.query('count(process_cpu_user_seconds_total)')).toBe(1);

    const expected = 1600 / 3 / FULL;
    expect(await p.query(REALISED_BUDGET_RATIO_PROMQL)).toBeCloseTo(expected, 9);
    // The recording rule from deploy/prometheus/rules.yml, evaluated by this Prometheus.
    const recorded = await p.waitForValue(RECORDING_RULES.realisedRatio, (v) => v !== undefined && Math.abs(v - expected) < 1e-9);
    expect(recorded).toBeCloseTo(expected, 9);
    expect(await p.query(RECORDING_RULES.targetRatio)).toBe(0.5);
    // Realised 0.533 > target 0.5: the overspend alert is pending (it fires after 5m).
    await p.waitForValue('ALERTS{alertname="EeroBudgetOverspent", alertstate="pending", model="resnet18"}', (v) => v === 1);
  });

  test('every dashboard query is accepted by Prometheus and has data', async () => {
    const p = prometheus as PrometheusHandle;
    const problems: string[] = [];
    for (const raw of dashboardExpressions(readDashboard())) {
      const expr = withVariablesExpanded(raw).replace(/^label_values\((\w+), \w+\)$/, '$1');
      try {
        const samples = await p.queryVector(expr);
        if (samples.length === 0 || samples.some((s) => Number.isNaN(s.value))) problems.push(`no data: ${expr}`);
      } catch (e) {
        problems.push(String(e));
      }
    }
    expect(problems).toEqual([]);
  });
});

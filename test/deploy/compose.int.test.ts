import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { METRIC_NAMES, REALISED_BUDGET_RATIO_PROMQL, RECORDING_RULES, createMetrics, createRegistry } from '../../src/metrics';
import { hasBinary } from '../support/prometheus';
import {
  PROMETHEUS_CONFIG_FILE,
  REPO_ROOT,
  RULES_FILE,
  RULES_TEST_FILE,
  dashboardExpressions,
  familyName,
  metricNamesIn,
  readDashboard,
  readRules,
} from './deploy-files';

function run(cmd: string, args: string[]): { status: number | null; output: string } {
  const r = spawnSync(cmd, args, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 }); // ends a hang only
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

const hasCompose = hasBinary('docker-compose');
const hasPromtool = hasBinary('promtool');
const composeTest = hasCompose ? test : test.skip;
const promtoolTest = hasPromtool ? test : test.skip;
const whyCompose = hasCompose ? '' : ' [skipped: docker-compose is not on PATH]';
const whyPromtool = hasPromtool ? '' : ' [skipped: promtool is not on PATH]';

/** What createMetrics registers: name -> type. */
async function registeredMetrics(): Promise<Map<string, string>> {
  const registry = createRegistry();
  createMetrics(registry);
  return new Map((await registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]));
}

const squash = (s: string): string => s.replace(/\s+/g, ' ').trim();

describe('docker-compose.yml', () => {
  composeTest(`docker-compose config -q accepts it${whyCompose}`, () => {
    const r = run('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q']);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  test('has no top-level version and wires eero, prometheus and grafana', () => {
    const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as Record<string, unknown> & {
      services: Record<string, { ports?: string[]; volumes?: string[]; healthcheck?: unknown; build?: unknown }>;
    };
    expect(compose).not.toHaveProperty('version');
    expect(Object.keys(compose.services).sort()).toEqual(['eero', 'grafana', 'prometheus']);
    expect(compose.services.eero?.ports).toContain('8080:8080');
    expect(compose.services.eero?.healthcheck).toBeDefined();
    expect(compose.services.prometheus?.volumes).toContain('./deploy/prometheus:/etc/prometheus:ro');
    expect(compose.services.grafana?.volumes).toContain('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro');
  });
});

describe('prometheus config and rules', () => {
  promtoolTest(`promtool check config${whyPromtool}`, () => {
    const r = run('promtool', ['check', 'config', PROMETHEUS_CONFIG_FILE]);
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  promtoolTest(`promtool check rules${whyPromtool}`, () => {
    const r = run('promtool', ['check', 'rules', RULES_FILE]);
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  promtoolTest(`promtool test rules: realised ratio, target and alerts on synthetic series${whyPromtool}`, () => {
    const r = run('promtool', ['test', 'rules', RULES_TEST_FILE]);
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  test('scrapes eero:8080 every 5s and loads rules.yml', () => {
    const config = parse(readFileSync(PROMETHEUS_CONFIG_FILE, 'utf8')) as {
      rule_files: string[];
      scrape_configs: { scrape_interval: string; static_configs: { targets: string[] }[] }[];
    };
    expect(config.rule_files).toEqual(['rules.yml']);
    expect(config.scrape_configs[0]?.scrape_interval).toBe('5s');
    expect(config.scrape_configs[0]?.static_configs[0]?.targets).toEqual(['eero:8080']);
  });

  test('the realised-ratio recording rule is the documented expression, and the alert compares it to the target', () => {
    const rules = readRules().groups.flatMap((g) => g.rules);
    const realised = rules.find((r) => r.record === RECORDING_RULES.realisedRatio);
    expect(squash(realised?.expr ?? '')).toBe(squash(REALISED_BUDGET_RATIO_PROMQL));
    expect(rules.find((r) => r.record === RECORDING_RULES.targetRatio)?.expr).toContain(METRIC_NAMES.budgetTargetRatio);
    const alert = rules.find((r) => r.alert === 'EeroBudgetOverspent');
    expect(alert?.for).toBe('5m');
    expect(alert?.labels?.severity).toBe('warning');
    expect(alert?.annotations?.summary).toBeTruthy();
    expect(alert?.annotations?.description).toBeTruthy();
    expect(metricNamesIn(alert?.expr ?? '')).toEqual([RECORDING_RULES.realisedRatio, RECORDING_RULES.targetRatio].sort());
  });
});

describe('dashboard and rules use only metrics that src/metrics registers', () => {
  test('metricNamesIn finds selectors and skips functions, aggregations, labels and strings', () => {
    expect(metricNamesIn(REALISED_BUDGET_RATIO_PROMQL)).toEqual([
      'eero_images_total',
      'eero_macs_spent_total',
      'eero_model_full_cost_macs',
    ]);
    expect(
      metricNamesIn('histogram_quantile(0.99, sum by (le, phase) (rate(x_seconds_bucket{model=~"$model", a="b c"}[$__rate_interval])))'),
    ).toEqual(['x_seconds_bucket']);
    expect(metricNamesIn('label_values(eero_queue_depth, model)')).toEqual(['eero_queue_depth']);
    expect(metricNamesIn('a:b:5m > on (model) group_left c * 1e9 and d offset 5m')).toEqual(['a:b:5m', 'c', 'd']);
  });

  test('every name in the dashboard and the rules is registered (or recorded by rules.yml), and every metric is shown', async () => {
    const registered = await registeredMetrics();
    const histograms = new Set([...registered].filter(([, type]) => type === 'histogram').map(([name]) => name));
    const rules = readRules().groups.flatMap((g) => g.rules);
    const recorded = new Set(rules.flatMap((r) => (r.record === undefined ? [] : [r.record])));
    const expressions = [...dashboardExpressions(readDashboard()), ...rules.map((r) => r.expr)];
    expect(expressions.length).toBeGreaterThan(15);
    const used = new Set<string>();
    for (const expr of expressions) {
      const names = metricNamesIn(expr);
      expect({ expr, names: names.length > 0 }).toEqual({ expr, names: true });
      for (const series of names) {
        const name = familyName(series, histograms);
        const known = registered.has(name) || recorded.has(name) || name === 'ALERTS';
        expect({ expr, name, known }).toEqual({ expr, name, known: true });
        // A histogram is only selected through its _bucket, _count or _sum series.
        if (histograms.has(name)) expect({ expr, series }).not.toEqual({ expr, series: name });
        used.add(name);
      }
    }
    // Recording rules count as showing the metrics they are built from.
    for (const r of rules)
      if (r.record !== undefined && used.has(r.record)) for (const n of metricNamesIn(r.expr)) used.add(familyName(n, histograms));
    expect([...registered.keys()].filter((n) => !used.has(n))).toEqual([]);
  });

  test('the dashboard is a provisionable Grafana dashboard', () => {
    const d = readDashboard();
    const datasource = parse(readFileSync(join(REPO_ROOT, 'deploy/grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as {
      datasources: { uid: string; url: string }[];
    };
    const uid = datasource.datasources[0]?.uid;
    expect(d.uid).toBe('eero-budget');
    expect(d.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(d.templating.list.map((v) => v.name)).toContain('model');
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const charts = d.panels.filter((p) => p.type !== 'row');
    expect(charts.length).toBeGreaterThanOrEqual(10);
    for (const p of charts) {
      expect({ title: p.title, type: p.type }).toEqual({ title: p.title, type: 'timeseries' });
      expect(p.datasource?.uid).toBe(uid);
      expect(p.targets?.length).toBeGreaterThan(0);
    }
    const exits = charts.find((p) => p.targets?.some((t) => squash(t.expr).startsWith('sum by (exit) (rate(eero_images_total')));
    expect(exits).toBeDefined();
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const ignored = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('!'));
  /** .dockerignore patterns as regexes (enough for ours: `**`, `*`, plain paths). */
  const isIgnored = (path: string): boolean =>
    ignored.some((p) => {
      const re = new RegExp(
        `^${p
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*\*\//g, '(.*/)?')
          .replace(/\*/g, '[^/]*')}(/.*)?$`,
      );
      return re.test(path);
    });
  const contextCopies = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => (m[1] as string).split(/\s+/));

  test('is multi-stage, runs as node, exposes 8080 with a /healthz health check', () => {
    expect(dockerfile).toMatch(/^FROM node:20-bookworm-slim AS build$/m);
    expect(dockerfile).toMatch(/^FROM node:20-bookworm-slim AS runtime$/m);
    expect(dockerfile).toMatch(/ONNXRUNTIME_NODE_INSTALL=skip/);
    expect(dockerfile).toMatch(/^RUN npm ci$/m);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^EXPOSE 8080$/m);
    expect(dockerfile).toMatch(/HEALTHCHECK[\s\S]*fetch\('http:\/\/127\.0\.0\.1:8080\/healthz'\)/);
    // The service binds 127.0.0.1 by default: the container must ask for every interface.
    expect(dockerfile).toMatch(/^CMD .*node dist\/src\/cli\/main\.js serve --host 0\.0\.0\.0 --port 8080/m);
  });

  test('copies nothing that .dockerignore leaves out of the build context', () => {
    expect(contextCopies).toEqual(
      expect.arrayContaining(['package.json', 'package-lock.json', 'src', 'models/resnet18-fmnist', 'budgets']),
    );
    expect(contextCopies.filter(isIgnored)).toEqual([]);
    expect(['test', 'node_modules', 'models/toolkit', '.git', 'dist'].filter((p) => !isIgnored(p))).toEqual([]);
  });
});

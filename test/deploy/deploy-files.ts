/** Reads deploy/ (dashboard, rules) and pulls metric names out of PromQL, for consistency tests. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const REPO_ROOT = join(__dirname, '..', '..');
export const DASHBOARD_FILE = join(REPO_ROOT, 'deploy/grafana/dashboards/eero-budget.json');
export const RULES_FILE = join(REPO_ROOT, 'deploy/prometheus/rules.yml');
export const PROMETHEUS_CONFIG_FILE = join(REPO_ROOT, 'deploy/prometheus/prometheus.yml');
export const RULES_TEST_FILE = join(REPO_ROOT, 'deploy/prometheus/rules.test.yml');

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; refId: string; datasource?: { uid: string } }[];
}

export interface Dashboard {
  uid: string;
  schemaVersion: number;
  panels: DashboardPanel[];
  templating: { list: { name: string; query: { query: string } | string }[] };
}

export interface RuleFile {
  groups: {
    name: string;
    rules: {
      record?: string;
      alert?: string;
      expr: string;
      for?: string;
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
    }[];
  }[];
}

export function readDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

export function readRules(): RuleFile {
  return parse(readFileSync(RULES_FILE, 'utf8')) as RuleFile;
}

/** Every PromQL expression of the dashboard: panel targets and query variables. */
export function dashboardExpressions(d: Dashboard): string[] {
  const panels = d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  const variables = d.templating.list.map((v) => (typeof v.query === 'string' ? v.query : v.query.query));
  return [...panels, ...variables];
}

/** Grafana variables replaced by values Prometheus accepts, to run dashboard queries for real. */
export function withVariablesExpanded(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval/g, '1m').replace(/\$\{?\w+\}?/g, '.*');
}

const AGGREGATIONS = [
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
];
const KEYWORDS = new Set([
  ...AGGREGATIONS,
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'Inf',
  'NaN',
  'inf',
  'nan',
]);

/**
 * Metric (and recording rule) names an expression selects: identifiers that are
 * not functions, aggregations, keywords, label names, strings or durations.
 * Also understands Grafana's label_values(metric, label).
 */
export function metricNamesIn(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\boffset\s+-?[\dsmhdwy]+/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' $1 ')
    .replace(/\blabel_values\s*\(\s*([a-zA-Z_:][\w:]*)\s*,[^)]*\)/g, ' $1 ')
    .replace(/(^|[^\w:.])\d[\d.]*(e[+-]?\d+)?/gi, '$1 ');
  const names = new Set<string>();
  for (const m of s.matchAll(/[a-zA-Z_:][\w:]*/g)) {
    const id = m[0];
    const after = s.slice((m.index ?? 0) + id.length);
    if (/^\s*\(/.test(after) || KEYWORDS.has(id)) continue;
    names.add(id);
  }
  return [...names].sort();
}

/** Histogram series names map back to their family. */
export function familyName(series: string, histograms: ReadonlySet<string>): string {
  const m = /^(.*)_(bucket|sum|count)$/.exec(series);
  return m !== null && histograms.has(m[1] as string) ? (m[1] as string) : series;
}

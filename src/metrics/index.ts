/** metrics/: the only module that imports prom-client. */
export { createMetrics } from './create-metrics';
export { createRegistry, renderMetrics, metricsContentType, type MetricsRegistry } from './registry';
export { OVERFLOW_LABEL_VALUE } from './label-guard';
export { METRIC_NAMES, LABEL_NAMES, REALISED_BUDGET_RATIO_PROMQL, RECORDING_RULES } from './names';
export type { EeroMetrics } from './types';

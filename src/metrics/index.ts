/** metrics/: the only module that imports prom-client. */
export { createMetrics } from './create-metrics';
export { createRegistry, renderMetrics, type MetricsRegistry } from './registry';
export type { EeroMetrics } from './types';
/** @internal For the tests. */
export { metricsContentType } from './registry';
/** @internal For the tests. */
export { OVERFLOW_LABEL_VALUE } from './label-guard';
/** @internal For the tests. */
export { METRIC_NAMES, LABEL_NAMES, REALISED_BUDGET_RATIO_PROMQL, RECORDING_RULES } from './names';

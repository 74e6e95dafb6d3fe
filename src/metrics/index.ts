/** metrics/: the only module that imports prom-client. */
export { createMetrics } from './create-metrics';
export {
  createRegistry,
  renderMetrics,
  metricsContentType,
  type CreateRegistryOptions,
  type Exposition,
  type MetricsRegistry,
} from './registry';
export { OVERFLOW_LABEL_VALUE } from './label-guard';
export {
  METRIC_NAMES,
  LABEL_NAMES,
  PHASES,
  DEFAULT_BUCKETS,
  REALISED_BUDGET_RATIO_PROMQL,
  RECORDING_RULES,
  type LabelName,
  type MetricName,
  type Phase,
} from './names';
export type { EeroMetrics, ImageRecord, LedgerReading, LedgerSource, MetricsOptions, QueueDepthReading, QueueDepthSource } from './types';

import { Registry, collectDefaultMetrics } from 'prom-client';

/** The registry type, re-exported so that no other module imports prom-client. */
export type MetricsRegistry = Registry;

export interface CreateRegistryOptions {
  /** Add prom-client's process_* and nodejs_* metrics (unprefixed, their standard names). */
  defaultMetrics?: boolean;
}

/** Content type of the Prometheus text exposition format (0.0.4). @internal For the tests. */
export const metricsContentType: string = Registry.PROMETHEUS_CONTENT_TYPE;

/** A fresh, non-global registry. Nothing is registered on prom-client's global one. */
export function createRegistry(options: CreateRegistryOptions = {}): MetricsRegistry {
  const registry = new Registry();
  if (options.defaultMetrics === true) collectDefaultMetrics({ register: registry });
  return registry;
}

export interface Exposition {
  contentType: string;
  body: string;
}

/** The scrape answer for GET /metrics. Runs every collect() callback. */
export async function renderMetrics(registry: MetricsRegistry): Promise<Exposition> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

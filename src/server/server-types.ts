/** What the HTTP app is built from (createApp's deps), so tests can build it without a socket or a config. */
import type { Batcher } from '../batching';
import type { LimitsConfig } from '../config';
import type { EeroMetrics, MetricsRegistry } from '../metrics';
import type { BudgetRequest, ModelRuntime } from '../pipeline';

export interface Logger {
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
}

/** One served model: its runtime, its batcher and the budget it uses when a request names none. */
export interface ServedModelEntry {
  /** The name clients ask for (may differ from the manifest's name). */
  name: string;
  runtime: ModelRuntime;
  batcher: Batcher;
  /** Default routing: the config's budget, or a budgets/*.yaml policy (pinned thresholds, score, beta). */
  defaults: BudgetRequest;
  /** True once the engine has been warmed up. */
  warmed: boolean;
}

export interface AppDeps {
  models: ReadonlyMap<string, ServedModelEntry>;
  /** Used when a request names no model. */
  defaultModel: string;
  metrics: EeroMetrics;
  registry: MetricsRegistry;
  limits: LimitsConfig;
  logger: Logger;
  /** Milliseconds, monotonic (performance.now). */
  clock: () => number;
  /** False while shutting down; readiness also needs every model warmed. */
  accepting: () => boolean;
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

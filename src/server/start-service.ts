/**
 * The whole service from a ServeConfig: load and warm every model, wire
 * batchers and metrics, listen; `close()` shuts down gracefully (stop
 * accepting, drain the batchers, close the server, dispose the runtimes).
 */
import { performance } from 'node:perf_hooks';
import { loadBudgetPolicy, type ServeConfig, type ServedModel } from '../config';
import { createBatcher } from '../batching';
import { toEeroError } from '../errors';
import { createMetrics, createRegistry, type EeroMetrics, type MetricsRegistry } from '../metrics';
import { loadModelRuntime, type BudgetRequest } from '../pipeline';
import type { BudgetSpec } from '../router';
import { configureSharp } from '../preprocess';
import { createApp } from './app';
import { listen, type Listening } from './listen';
import { silentLogger, type AppDeps, type Logger, type ServedModelEntry } from './server-types';

export interface ServiceOptions {
  logger?: Logger;
  /** Default budget (fraction) for models whose config names neither budget nor policy; default 0.5. */
  defaultBudget?: number;
  /** Default budgets/*.yaml policy for models whose config names none. */
  defaultPolicy?: string;
  /** Skip the prom-client process/nodejs metrics (tests); default: included. */
  defaultMetrics?: boolean;
}

export interface Service extends Listening {
  deps: AppDeps;
  metrics: EeroMetrics;
  registry: MetricsRegistry;
  models: Map<string, ServedModelEntry>;
}

async function defaultsFor(m: ServedModel, options: ServiceOptions): Promise<{ request: BudgetRequest; spec: BudgetSpec; source: string }> {
  const policyFile = m.policy ?? options.defaultPolicy;
  if (m.budget !== undefined || policyFile === undefined) {
    const fraction = m.budget ?? options.defaultBudget ?? 0.5;
    const spec: BudgetSpec = fraction > 1 ? { macs: fraction } : { fraction };
    return { request: { budget: spec }, spec, source: `budget ${fraction}` };
  }
  const p = await loadBudgetPolicy(policyFile);
  const spec: BudgetSpec = p.budget !== undefined ? { fraction: p.budget } : { macs: p.budgetMacs as number };
  const request: BudgetRequest = {
    budget: spec,
    score: p.score,
    beta: p.beta,
    ledger: p.ledger.enabled,
    name: p.name,
    ...(p.thresholds ? { thresholds: p.thresholds } : {}),
  };
  return { request, spec, source: `policy ${p.name} (${policyFile})` };
}

async function loadModel(
  config: ServeConfig,
  m: ServedModel,
  metrics: EeroMetrics,
  options: ServiceOptions,
  log: Logger,
): Promise<ServedModelEntry> {
  const defaults = await defaultsFor(m, options);
  const t0 = performance.now();
  const runtime = await loadModelRuntime(m.path, {
    engine: config.engine,
    defaultBudget: defaults.spec,
    ledger: defaults.request.ledger ?? true,
    ...(defaults.request.score ? { defaultScore: defaults.request.score } : {}),
    ...(defaults.request.beta !== undefined ? { defaultBeta: defaults.request.beta } : {}),
    logger: { warn: (line) => log.warn(line) },
  });
  try {
    const choice = runtime.budgets.choose(defaults.request);
    log.info(
      `model ${m.name}: loaded ${m.path} (${runtime.manifest.exits.length} exits, ${runtime.labels.length} classes, ${runtime.engine.executionProvider}) in ${Math.round(performance.now() - t0)} ms; default ${defaults.source}, ${(100 * choice.fraction).toFixed(1)}% of the full cost, ledger ${choice.ledger ? 'on' : 'off'}`,
    );
    const fullMacs = runtime.macs[runtime.macs.length - 1] as number;
    metrics.setBudget(m.name, choice.name, choice.fraction, fullMacs);
    const batcher = createBatcher(runtime, {
      ...config.batching,
      onBatch: (report) => {
        metrics.observeBatch(m.name, report.size);
        metrics.observePhase(m.name, 'inference', report.inferenceSeconds);
        for (const s of report.queueSeconds) metrics.observePhase(m.name, 'queue', Math.max(0, s));
        for (const s of report.stages) if (s.rows > 0) metrics.observeStage(m.name, s.stage, s.seconds);
      },
    });
    const t1 = performance.now();
    await runtime.engine.warmup([...new Set([1, config.batching.maxBatch])]);
    log.info(`model ${m.name}: warmed up (batch 1 and ${config.batching.maxBatch}) in ${Math.round(performance.now() - t1)} ms`);
    return { name: m.name, runtime, batcher, defaults: defaults.request, warmed: true };
  } catch (e) {
    await runtime.dispose();
    throw e;
  }
}

function wireSources(metrics: EeroMetrics, models: Map<string, ServedModelEntry>): void {
  metrics.setQueueDepthSource(() => [...models.values()].map((e) => ({ model: e.name, depth: e.batcher.depth })));
  metrics.setLedgerSource(() =>
    [...models.values()].flatMap((e) => {
      const { macs, costs } = e.runtime;
      const toMacs = (macs[macs.length - 1] as number) / (costs[costs.length - 1] as number);
      return e.runtime.budgets.ledgerSnapshots().map((l) => ({ model: e.name, policy: l.name, balanceMacs: l.snapshot.balance * toMacs }));
    }),
  );
}

export async function startService(config: ServeConfig, options: ServiceOptions = {}): Promise<Service> {
  const log = options.logger ?? silentLogger;
  const sharp = configureSharp();
  log.info(`sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}), ${sharp.threads} thread(s) per image`);
  const registry = createRegistry({ defaultMetrics: options.defaultMetrics ?? true });
  const metrics = createMetrics(registry, {
    onSourceError: (name, e) => log.warn(`metrics: ${name} source failed: ${toEeroError(e).message}`),
  });
  const models = new Map<string, ServedModelEntry>();
  let accepting = true;
  try {
    for (const m of config.models) models.set(m.name, await loadModel(config, m, metrics, options, log));
  } catch (e) {
    await Promise.all([...models.values()].map((entry) => entry.runtime.dispose()));
    throw e;
  }
  wireSources(metrics, models);
  const deps: AppDeps = {
    models,
    defaultModel: config.models[0]?.name ?? '',
    metrics,
    registry,
    limits: config.limits,
    logger: log,
    clock: () => performance.now(),
    accepting: () => accepting,
  };
  const listening = await listen(createApp(deps), config.port, config.host, { requestTimeoutMs: config.limits.requestTimeoutMs });
  log.info(`listening on http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${listening.port}`);
  let closing: Promise<void> | undefined;
  const close = (graceMs = 5000): Promise<void> => {
    closing ??= (async () => {
      accepting = false;
      log.info('shutting down: no new requests; draining queued images');
      const closed = listening.close(graceMs);
      await Promise.all([...models.values()].map((e) => e.batcher.drain()));
      listening.server.closeIdleConnections();
      await closed;
      await Promise.all([...models.values()].map((e) => e.runtime.dispose()));
      log.info('stopped');
    })();
    return closing;
  };
  return { ...listening, close, deps, metrics, registry, models };
}

/**
 * The whole service from a ServeConfig: load and warm every model, wire
 * classifiers and metrics, listen; `close()` shuts down with a drain:
 * not ready at once, still answering for `shutdown.drainMs` (load balancers
 * stop routing), then the listener closes (connection-drain.ts: without
 * resetting a client), queued images finish, models go.
 */
import { performance } from 'node:perf_hooks';
import type { ServeConfig, ServedModel as ServedModelConfig } from '../config';
import { createMetrics, createRegistry, type EeroMetrics, type MetricsRegistry } from '../metrics';
import {
  createClassifier,
  describePaths,
  loadModel,
  surfaceNamer,
  toRoutingRequest,
  type Classifier,
  type LoadedModel,
  type PathOption,
} from '../pipeline';
import { configureSharp, createDecodePool, type DecodePool } from '../preprocess';
import { toEeroError } from '../errors';
import { checkAdminToken } from './admin-token';
import { createApp } from './app';
import { listenGrpc, type GrpcListening } from './grpc';
import { listen, type Listening } from './listen';
import { servedModel } from './served-model';
import { silentLogger, type AppDeps, type Logger, type Phase, type ServedModel } from './server-types';
import { bodyLimits } from './v2';
import { IoActivity } from './io-activity';

export interface ServiceOptions {
  logger?: Logger;
  /** Skip the prom-client process/nodejs metrics (tests); default: included. */
  defaultMetrics?: boolean;
  /** Waits out the shutdown drain (default: a timer of shutdown.drainMs); tests end it on an event instead. */
  drainWait?: (ms: number) => Promise<void>;
  /** How batches pick the one graph or the stage chain; default: measured at load (engine graph auto). */
  paths?: PathOption;
  /** Milliseconds clock of the limits on new routing rules (default performance.now); tests hold it still. */
  ruleClock?: () => number;
}

interface Loaded {
  model: LoadedModel;
  classifier: Classifier;
  served: ServedModel;
}

export interface CloseOptions {
  /** false: skip `shutdown.drainMs` (a person pressing Ctrl-C, not a load balancer, is waiting); default true. */
  drain?: boolean;
}

export interface Service extends Listening {
  /** Drain (`shutdown.drainMs`), stop accepting, finish what is in flight and queued, release the models. */
  close(graceMs?: number, how?: CloseOptions): Promise<void>;
  deps: AppDeps;
  metrics: EeroMetrics;
  registry: MetricsRegistry;
  models: Map<string, Loaded>;
  /** The gRPC server, when the config has `grpc`. */
  grpc: GrpcListening | undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function loadServed(
  config: ServeConfig,
  m: ServedModelConfig,
  metrics: EeroMetrics,
  log: Logger,
  decodePool: DecodePool,
  paths: PathOption | undefined,
  activity: IoActivity,
  ruleClock: (() => number) | undefined,
): Promise<Loaded> {
  const t0 = performance.now();
  const model = await loadModel(
    m.path,
    // Deadlines need each stage's seconds on this machine, at the serving batch size.
    {
      ...(m.budget ? { budget: m.budget } : {}),
      ...(m.policy ? { policyFile: m.policy } : {}),
      routing: toRoutingRequest(m.routing ?? {}, surfaceNamer('serve'), undefined, 'CONFIG_INVALID', `serve config, model ${m.name}: `),
      profile: true,
      profileBatch: config.batching.maxBatch,
    },
    {
      engine: config.engine,
      logger: { warn: (line) => log.warn(line) },
      onDerivation: (event) => metrics.countRuleDerivation(m.name, event),
      ...(paths ? { paths } : {}),
      ...(ruleClock ? { clock: ruleClock } : {}),
    },
  );
  try {
    const { routing, costs } = model;
    log.info(
      `model ${m.name}: loaded ${m.path} (${model.manifest.exits.length} exits, ${model.labels.length} classes, ${model.engine.executionProvider}) ` +
        `in ${Math.round(performance.now() - t0)} ms; budget ${(100 * routing.limitFraction).toFixed(1)}% of the full cost (${model.source}), ` +
        `rule ${routing.choose({}).rule}, ledger ${routing.ledger ? 'on' : 'off'}`,
    );
    if (model.engine.earlyExit) log.info(`model ${m.name}: ${describePaths(model.paths)}`);
    metrics.setBudget(m.name, routing.limitFraction, costs.fullMacs);
    const toMacs = costs.fullMacs / costs.full;
    const classifier = createClassifier(model, {
      batching: config.batching,
      limitInputPixels: config.limits.inputPixels,
      maxSide: config.limits.maxSide,
      maxAspectRatio: config.limits.maxAspectRatio,
      decodeTimeoutSeconds: config.limits.decodeTimeoutSeconds,
      decodePool,
      settle: () => activity.settle(),
      onBatch: (report, run) => {
        metrics.observeBatch(m.name, report.size, run?.path ?? 'failed');
        metrics.observePhase(m.name, 'inference', report.inferenceSeconds);
        for (const s of report.queueSeconds) metrics.observePhase(m.name, 'queue', s);
        for (const s of run?.stages ?? []) if (s.rows > 0) metrics.observeStage(m.name, s.stage, s.seconds);
        if (run && run.reserved > 0) metrics.recordReservation(m.name, run.reserved * toMacs, run.spent * toMacs);
      },
      ...(config.monitor.sampleRate > 0
        ? {
            monitor: {
              ...config.monitor,
              batch: Math.min(8, config.batching.maxBatch),
              onSample: (exit: number, agreed: boolean, macs: number) => metrics.recordMonitorSample(m.name, exit, agreed, macs),
            },
            onMonitorError: (e: unknown) => log.warn(`model ${m.name}: monitor run failed: ${toEeroError(e).message}`),
          }
        : {}),
      onImage: (r, t) => {
        metrics.recordImage({
          model: m.name,
          exit: r.exit,
          macs: r.macs,
          ...(r.forced ? { forced: r.stoppedBy as 'ledger' | 'deadline' } : {}),
        });
        metrics.observePhase(m.name, 'preprocess', t.preprocessMs / 1000);
        if (t.deadline) metrics.recordDeadline(m.name, t.deadline);
      },
    });
    const t1 = performance.now();
    const sizes = [...new Set([1, config.batching.maxBatch])];
    await model.engine.warmup(sizes);
    log.info(`model ${m.name}: warmed up (batch ${sizes.join(' and ')}) in ${Math.round(performance.now() - t1)} ms`);
    metrics.setAgreementTarget(m.name, routing.certifiedAgreement ?? config.monitor.agreementTarget);
    return { model, classifier, served: servedModel(m.name, model, classifier, metrics, () => true) };
  } catch (e) {
    await model.dispose();
    throw e;
  }
}

function wireSources(metrics: EeroMetrics, models: Map<string, Loaded>): void {
  metrics.setQueueDepthSource(() => [...models].map(([model, l]) => ({ model, depth: l.classifier.depth })));
  metrics.setAgreementSource(() =>
    [...models].flatMap(([model, { classifier }]) =>
      (classifier.monitor?.snapshot().agreement ?? []).map((a) => ({
        model,
        exit: String(a.exit),
        ratio: a.ratio,
        lower: a.lower,
        upper: a.upper,
      })),
    ),
  );
  metrics.setLedgerSource(() =>
    [...models].map(([model, { model: m }]) => ({
      model,
      creditMacs: ((m.routing.ledger?.snapshot().credit ?? 0) * m.costs.fullMacs) / m.costs.full,
      thresholdsVersion: m.routing.version,
    })),
  );
}

export async function startService(config: ServeConfig, options: ServiceOptions = {}): Promise<Service> {
  const log = options.logger ?? silentLogger;
  checkAdminToken(config.adminToken);
  const sharp = configureSharp();
  // One pool for every model: decodes share the cores (and libuv's threads) whichever model they are for.
  const { decodeConcurrency, largeImagePixels } = config.limits;
  // The classifiers' clock (performance.now), on which requests' due times are set.
  const decodePool = createDecodePool({
    ...(decodeConcurrency ? { slots: decodeConcurrency } : {}),
    largePixels: largeImagePixels,
    now: () => performance.now(),
  });
  log.info(
    `sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}), ${sharp.threads} thread(s) per image, ` +
      `${decodePool.slots} decode(s) at once`,
  );
  const registry = createRegistry({ defaultMetrics: options.defaultMetrics ?? true });
  const metrics = createMetrics(registry, {
    onSourceError: (name, e) => log.warn(`metrics: ${name} source failed: ${toEeroError(e).message}`),
  });
  const models = new Map<string, Loaded>();
  // New connections, so that a batch forms after what has already arrived is read (io-activity.ts).
  const activity = new IoActivity();
  try {
    const paths = options.paths ?? (config.engine.graph === 'auto' ? { measureUpTo: config.batching.maxBatch } : undefined);
    for (const m of config.models)
      models.set(m.name, await loadServed(config, m, metrics, log, decodePool, paths, activity, options.ruleClock));
  } catch (e) {
    await Promise.all([...models.values()].map((l) => l.model.dispose()));
    throw e;
  }
  wireSources(metrics, models);
  let phase: Phase = 'serving';
  const deps: AppDeps = {
    models: new Map([...models].map(([name, l]) => [name, l.served])),
    defaultModel: config.models[0]?.name ?? '',
    metrics,
    registry,
    limits: config.limits,
    logger: log,
    clock: () => performance.now(),
    phase: () => phase,
    ...(config.adminToken ? { adminToken: config.adminToken } : {}),
  };
  let listening: Listening;
  try {
    listening = await listen(createApp(deps), config.port, config.host, {
      requestTimeoutMs: config.limits.requestTimeoutMs,
      activity,
      connectionsPerAddress: config.limits.connectionsPerAddress,
    });
  } catch (e) {
    await Promise.all([...models.values()].map((l) => l.model.dispose()));
    throw e;
  }
  log.info(`listening on http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${listening.port}`);
  let grpc: GrpcListening | undefined;
  if (config.grpc) {
    try {
      grpc = await listenGrpc(deps, {
        port: config.grpc.port,
        host: config.host,
        maxReceiveBytes: bodyLimits(config.limits.bodyBytes).binary,
      });
    } catch (e) {
      await listening.close(0);
      await Promise.all([...models.values()].map((l) => l.model.dispose()));
      throw e;
    }
    log.info(`listening for gRPC on ${grpc.address} (inference.GRPCInferenceService, grpc.health.v1.Health)`);
  }
  let closing: Promise<void> | undefined;
  // In-flight requests end by their own deadline (limits.requestTimeoutMs), then connections get 5 s more.
  const close = (graceMs = config.limits.requestTimeoutMs + 5000, how: CloseOptions = {}): Promise<void> => {
    closing ??= (async () => {
      phase = 'draining';
      const drainMs = how.drain === false ? 0 : config.shutdown.drainMs;
      if (drainMs > 0) {
        log.info(`shutting down: not ready; still answering for ${drainMs} ms so load balancers stop routing here`);
        listening.closeEachResponse();
        await (options.drainWait ?? sleep)(drainMs);
      } else log.info('shutting down: not ready; no drain');
      await listening.stopAccepting(graceMs);
      phase = 'closing';
      log.info('listener closed; finishing in-flight requests and queued images');
      const closed = listening.close(graceMs);
      // gRPC stops as HTTP does: no new calls (UNAVAILABLE), streams ended, calls in flight finish.
      const grpcClosed = grpc?.close(graceMs);
      await Promise.all([...models.values()].map((l) => l.classifier.drain()));
      await closed;
      await grpcClosed;
      await Promise.all([...models.values()].map((l) => l.model.dispose()));
      log.info('stopped');
    })();
    return closing;
  };
  return { ...listening, close, deps, metrics, registry, models, grpc };
}

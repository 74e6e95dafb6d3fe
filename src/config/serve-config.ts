/** The typed configuration of `eero serve`; `{}` (or an empty file) is a valid config. */
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import type { BudgetSpec } from './budget-spec';
import { DEFAULTS } from './defaults';
import { fileKeys, parseSurface, type OptionSpec, type OptionValues } from './options';
import { arr, declaredFields, num, obj, oneOf, optional, parseWithSchema, reporter, str, withDefault, type Schema } from './schema';
import { usableCores } from './usable-cores';
import { readYamlFile } from './yaml-file';

const positiveInt = num({ integer: true, min: 1 });

/**
 * A served model. Its routing options (the serve surface of the declared
 * options: `budget` is the operator's B, every image's average cost stays
 * within it and requests may only ask for less) are checked by their parser.
 */
const modelEntry = (specs: readonly OptionSpec[]) =>
  obj({
    /** The name clients ask for (`?model=`); defaults to the bundle folder's name. */
    name: optional(str({ nonEmpty: true, pattern: /^[A-Za-z0-9._-]+$/, patternName: 'a name of letters, digits, . _ -' })),
    /** The bundle folder. Relative paths in a file are resolved against the file's folder. */
    path: str({ nonEmpty: true }),
    /** A budgets/*.yaml policy file, resolved like `path`: the model's routing and, unless `budget` is given, its budget. */
    policy: optional(str({ nonEmpty: true })),
    ...declaredFields(fileKeys(specs, 'serve')),
  });

function defaults() {
  return {
    batching: { maxBatch: 32, maxWaitMs: 0, maxQueue: 1024 },
    limits: {
      bodyBytes: 20 * 1024 * 1024,
      inputPixels: DEFAULTS.inputPixels,
      filesPerRequest: 64,
      requestTimeoutMs: 30_000,
      maxSide: DEFAULTS.maxSide,
      maxAspectRatio: DEFAULTS.maxAspectRatio,
      decodeTimeoutSeconds: DEFAULTS.decodeTimeoutSeconds,
      decodeConcurrency: 0,
      largeImagePixels: DEFAULTS.largeImagePixels,
      connectionsPerAddress: 256,
    },
    engine: { intraOpThreads: usableCores(), interOpThreads: 1, executionProvider: 'cpu' as const, graph: 'auto' as const },
    shutdown: { drainMs: 5000 },
    monitor: { sampleRate: 0.02, reservoir: 4096, autoRecalibrate: false, minSamples: 500, agreementTarget: 0.99 },
  };
}

function serveConfigSchema(specs: readonly OptionSpec[]) {
  const d = defaults();
  const dflt = <T>(schema: Schema<T>, value: T): Schema<T> => withDefault(schema, () => value);
  return obj({
    port: dflt(num({ integer: true, min: 0, max: 65535 }), 8080),
    /** 127.0.0.1 by default: a server started on a laptop is not on the network until asked (containers set 0.0.0.0). */
    host: dflt(str({ nonEmpty: true }), '127.0.0.1'),
    models: dflt(arr(modelEntry(specs), { minLength: 1 }), [{ path: DEFAULTS.modelPath }]),
    batching: dflt(
      obj({
        maxBatch: dflt(positiveInt, d.batching.maxBatch),
        // 0 (Triton's default delay): a lone request runs at once; batches form from what arrives during a run.
        maxWaitMs: dflt(num({ min: 0 }), d.batching.maxWaitMs),
        maxQueue: dflt(positiveInt, d.batching.maxQueue),
      }),
      d.batching,
    ),
    limits: dflt(
      obj({
        bodyBytes: dflt(positiveInt, d.limits.bodyBytes),
        inputPixels: dflt(positiveInt, d.limits.inputPixels),
        filesPerRequest: dflt(positiveInt, d.limits.filesPerRequest),
        requestTimeoutMs: dflt(num({ above: 0 }), d.limits.requestTimeoutMs),
        /** Either side an image declares; at most libvips' own limit (10^8). */
        maxSide: dflt(num({ integer: true, min: 1, max: 100_000_000 }), d.limits.maxSide),
        /** Longer side / shorter side an image may declare. */
        maxAspectRatio: dflt(num({ min: 1 }), d.limits.maxAspectRatio),
        /** One image's decode stops after this (sharp's timeout, whole seconds). */
        decodeTimeoutSeconds: dflt(num({ integer: true, min: 1, max: 3600 }), d.limits.decodeTimeoutSeconds),
        /** Decodes at once, shared by every model; 0: one per core, at most UV_THREADPOOL_SIZE - 1. */
        decodeConcurrency: dflt(num({ integer: true, min: 0 }), d.limits.decodeConcurrency),
        /** Images declared above this many pixels use every decode slot but one (kept for smaller images). */
        largeImagePixels: dflt(positiveInt, d.limits.largeImagePixels),
        /** Connections open at once from one address, per port (HTTP, gRPC); past it a connection is refused and closed; 0: no limit. */
        connectionsPerAddress: dflt(num({ integer: true, min: 0 }), d.limits.connectionsPerAddress),
      }),
      d.limits,
    ),
    engine: dflt(
      obj({
        intraOpThreads: dflt(positiveInt, d.engine.intraOpThreads),
        interOpThreads: dflt(positiveInt, d.engine.interOpThreads),
        executionProvider: dflt(oneOf(['cpu', 'cuda'] as const), d.engine.executionProvider),
        /** auto: the one early-exit graph where the policy allows it, else the stage chain; stages; full: no exits at all. */
        graph: dflt(oneOf(['auto', 'stages', 'full'] as const), d.engine.graph),
      }),
      d.engine,
    ),
    shutdown: dflt(obj({ drainMs: dflt(num({ min: 0 }), d.shutdown.drainMs) }), d.shutdown),
    monitor: dflt(
      obj({
        /** Share of early answers continued to the final exit in the background to measure agreement. */
        sampleRate: dflt(num({ min: 0, max: 1 }), d.monitor.sampleRate),
        /** Monitored images whose all-exit outputs are kept for recalibration. */
        reservoir: dflt(positiveInt, d.monitor.reservoir),
        autoRecalibrate: dflt(z.boolean(), d.monitor.autoRecalibrate),
        /** Monitored images needed before a recalibration. */
        minSamples: dflt(positiveInt, d.monitor.minSamples),
        /** The agreement the EeroAgreementLow alert holds models to (a certified model uses its own guarantee). */
        agreementTarget: dflt(num({ above: 0, max: 1 }), d.monitor.agreementTarget),
      }),
      d.monitor,
    ),
    /** The Open Inference Protocol over gRPC on this port (same host), beside HTTP; absent: no gRPC server. */
    grpc: optional(obj({ port: num({ integer: true, min: 0, max: 65535 }) })),
    /** Enables POST /v1/models/{name}/recalibrate for requests bearing this token. */
    adminToken: optional(str({ nonEmpty: true })),
  }).superRefine((c, ctx) => {
    const report = reporter(ctx);
    const seen = new Set<string>();
    c.models.forEach((m, i) => {
      const name = m.name ?? baseName(m.path);
      if (seen.has(name)) report(['models', i, 'name'], `duplicate model name ${JSON.stringify(name)}`);
      seen.add(name);
    });
    if (c.grpc !== undefined && c.grpc.port !== 0 && c.grpc.port === c.port) {
      report(['grpc', 'port'], `expected a port other than the HTTP port ${c.port}`);
    }
    if (c.batching.maxQueue < c.batching.maxBatch) {
      report(['batching', 'maxQueue'], `expected >= batching.maxBatch (${c.batching.maxBatch}), got ${c.batching.maxQueue}`);
    }
    // A request is admitted whole: one larger than the queue could never be, however long it waited.
    if (c.batching.maxQueue < c.limits.filesPerRequest) {
      report(['batching', 'maxQueue'], `expected >= limits.filesPerRequest (${c.limits.filesPerRequest}), got ${c.batching.maxQueue}`);
    }
  });
}

type ParsedServeConfig = z.infer<ReturnType<typeof serveConfigSchema>>;
export interface ServedModel {
  name: string;
  path: string;
  policy?: string | undefined;
  /** The operator's budget B (the `budget` option); default: the policy's, else 0.5. */
  budget?: BudgetSpec | undefined;
  /** The other routing options the entry gives, by option key: the model's defaults for requests. */
  routing?: OptionValues;
}
export type ServeConfig = Omit<ParsedServeConfig, 'models'> & { models: ServedModel[] };
export type BatchingConfig = ServeConfig['batching'];
export type LimitsConfig = ServeConfig['limits'];
export type EngineConfig = ServeConfig['engine'];
export type ExecutionProviderName = EngineConfig['executionProvider'];

function baseName(path: string): string {
  return (
    path
      .replace(/[\\/]+$/, '')
      .split(/[\\/]/)
      .pop() || path
  );
}

/**
 * Validate an already-parsed value; relative paths resolve against `baseDir` when given (a file's folder).
 * `specs`: the declared routing options (pipeline's ROUTING_OPTIONS) a model entry may give.
 */
export function parseServeConfig(value: unknown, source: string, specs: readonly OptionSpec[] = [], baseDir?: string): ServeConfig {
  const c = parseWithSchema(serveConfigSchema(specs), value ?? {}, source, 'CONFIG_INVALID');
  const at = (p: string): string => (baseDir === undefined || isAbsolute(p) ? p : resolve(baseDir, p));
  const models = c.models.map((m, i): ServedModel => {
    const { budget, ...routing } = parseSurface(specs, 'serve', m, (n) => `${source}: models[${i}].${n}:`, 'CONFIG_INVALID');
    return {
      name: m.name ?? baseName(m.path),
      path: at(m.path),
      ...(m.policy === undefined ? {} : { policy: at(m.policy) }),
      ...(budget === undefined ? {} : { budget: budget as BudgetSpec }),
      routing,
    };
  });
  return { ...c, models };
}

/** The config with every default: what `eero serve` runs with when given no file. */
export function defaultServeConfig(): ServeConfig {
  return parseServeConfig({}, 'defaults');
}

export async function loadServeConfig(file: string, specs: readonly OptionSpec[]): Promise<ServeConfig> {
  const raw = await readYamlFile(file, 'CONFIG_INVALID');
  return parseServeConfig(raw, file, specs, dirname(file));
}

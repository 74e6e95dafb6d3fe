/** The typed configuration of `eero serve`; `{}` (or an empty file) is a valid config. */
import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { arr, child, fail, item, num, obj, oneOf, optional, parseWithSchema, str, withDefault, type Schema } from './schema';
import { readYamlFile } from './yaml-file';

export type ExecutionProviderName = 'cpu' | 'cuda';

export interface ServedModel {
  /** The name clients ask for (`?model=`); defaults to the bundle folder's name. */
  name: string;
  /** The bundle folder. Relative paths in a file are resolved against the file's folder. */
  path: string;
  /** A budgets/*.yaml policy file, resolved like `path`. */
  policy?: string;
  /** Default budget (fraction of the full cost) when a request names none; else the policy's. */
  budget?: number;
}

export interface BatchingConfig {
  maxBatch: number;
  maxWaitMs: number;
  maxQueue: number;
}

export interface LimitsConfig {
  bodyBytes: number;
  inputPixels: number;
  filesPerRequest: number;
  requestTimeoutMs: number;
}

export interface EngineConfig {
  intraOpThreads: number;
  interOpThreads: number;
  executionProvider: ExecutionProviderName;
}

export interface ServeConfig {
  port: number;
  host: string;
  models: ServedModel[];
  batching: BatchingConfig;
  limits: LimitsConfig;
  engine: EngineConfig;
}

export const DEFAULT_MODEL_PATH = 'models/resnet18-fmnist';

/** Defaults; the thread count is read from the machine when called, not at import. */
export function defaultServeConfig(): ServeConfig {
  return {
    port: 8080,
    host: '0.0.0.0',
    models: [{ name: 'resnet18-fmnist', path: DEFAULT_MODEL_PATH }],
    // maxWaitMs 0 (Triton's default delay): a lone request runs at once; batches form
    // from the requests that arrive while a batch runs. Measured in benchmarks/http-load.
    batching: { maxBatch: 32, maxWaitMs: 0, maxQueue: 1024 },
    limits: { bodyBytes: 20 * 1024 * 1024, inputPixels: 40e6, filesPerRequest: 64, requestTimeoutMs: 30_000 },
    engine: { intraOpThreads: availableParallelism(), interOpThreads: 1, executionProvider: 'cpu' },
  };
}

const positiveInt = num({ integer: true, min: 1 });

function serveConfigSchema(defaults: ServeConfig): Schema<ServeConfig> {
  const d = <T>(schema: Schema<T>, value: T): Schema<T> => withDefault(schema, () => value);
  const modelEntry = obj({
    name: optional(str({ nonEmpty: true, pattern: /^[A-Za-z0-9._-]+$/, patternName: 'a name of letters, digits, . _ -' })),
    path: str({ nonEmpty: true }),
    policy: optional(str({ nonEmpty: true })),
    budget: optional(num({ above: 0 })),
  });
  const fields = obj({
    port: d(num({ integer: true, min: 0, max: 65535 }), defaults.port),
    host: d(str({ nonEmpty: true }), defaults.host),
    models: optional(arr(modelEntry, { minLength: 1 })),
    batching: d(
      obj({
        maxBatch: d(positiveInt, defaults.batching.maxBatch),
        maxWaitMs: d(num({ min: 0 }), defaults.batching.maxWaitMs),
        maxQueue: d(positiveInt, defaults.batching.maxQueue),
      }),
      defaults.batching,
    ),
    limits: d(
      obj({
        bodyBytes: d(positiveInt, defaults.limits.bodyBytes),
        inputPixels: d(positiveInt, defaults.limits.inputPixels),
        filesPerRequest: d(positiveInt, defaults.limits.filesPerRequest),
        requestTimeoutMs: d(num({ above: 0 }), defaults.limits.requestTimeoutMs),
      }),
      defaults.limits,
    ),
    engine: d(
      obj({
        intraOpThreads: d(positiveInt, defaults.engine.intraOpThreads),
        interOpThreads: d(positiveInt, defaults.engine.interOpThreads),
        executionProvider: d(oneOf(['cpu', 'cuda'] as const), defaults.engine.executionProvider),
      }),
      defaults.engine,
    ),
  });
  return (value, path) => {
    const c = fields(value ?? {}, path);
    const models = (c.models ?? defaults.models).map((m) => ({ ...m, name: m.name ?? baseName(m.path) }));
    const seen = new Set<string>();
    models.forEach((m, i) => {
      if (seen.has(m.name)) fail(child(item('models', i), 'name'), `duplicate model name ${JSON.stringify(m.name)}`);
      seen.add(m.name);
    });
    if (c.batching.maxQueue < c.batching.maxBatch) {
      fail('batching.maxQueue', `expected >= batching.maxBatch (${c.batching.maxBatch}), got ${c.batching.maxQueue}`);
    }
    return { ...c, models };
  };
}

function baseName(path: string): string {
  return (
    path
      .replace(/[\\/]+$/, '')
      .split(/[\\/]/)
      .pop() || path
  );
}

/** Validate an already-parsed value (e.g. from flags merged over a file). */
export function parseServeConfig(value: unknown, source: string, baseDir?: string): ServeConfig {
  const config = parseWithSchema(serveConfigSchema(defaultServeConfig()), value, source, 'CONFIG_INVALID');
  if (baseDir === undefined) return config;
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  config.models = config.models.map((m) => ({
    ...m,
    path: at(m.path),
    ...(m.policy === undefined ? {} : { policy: at(m.policy) }),
  }));
  return config;
}

export async function loadServeConfig(file: string): Promise<ServeConfig> {
  const raw = await readYamlFile(file, 'CONFIG_INVALID');
  return parseServeConfig(raw, file, dirname(file));
}

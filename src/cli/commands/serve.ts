import * as path from 'node:path';
import { defaultServeConfig, loadServeConfig, parseSurface, type BudgetSpec, type ServeConfig } from '../../config';
import { EeroError } from '../../errors';
import { ROUTING_OPTIONS } from '../../pipeline';
import type { Logger, Service } from '../../server';
import { defineCommand, numberFlag, type CommandSpec } from '../args';
import { packagePath } from '../package-root';
import { onSignals } from '../signals';
import { optionFlags } from './routing-flags';

const flags = {
  config: {
    type: 'string',
    short: 'c',
    description: 'serve config YAML (models, batching, limits, engine, shutdown, monitor)',
    valueName: 'file',
  },
  port: { type: 'string', short: 'p', description: "port (default: env PORT, else the config's, 8080)" },
  'grpc-port': {
    type: 'string',
    description:
      "also serve the Open Inference Protocol over gRPC on this port (default: env GRPC_PORT, else the config's grpc.port, else off)",
  },
  host: { type: 'string', description: "address to bind (default: the config's, 127.0.0.1; 0.0.0.0 for every interface)" },
  model: { type: 'string', short: 'm', description: "serve this one bundle folder instead of the config's models", valueName: 'dir' },
  ...optionFlags(),
  policy: {
    type: 'string',
    description: 'a budgets/*.yaml policy for every model (its rule, score, ledger; its budget unless --budget)',
    valueName: 'file',
  },
} as const;

const spec: CommandSpec<typeof flags> = {
  name: 'serve',
  summary:
    'Serve the HTTP API (/v1/classify, /v1/models, KServe v2, /metrics) and, with --grpc-port, v2 over gRPC, with one budget ledger per model.',
  usage: 'eero serve [--config file] [--port N] [--grpc-port N] [--host H] [--model dir] [--budget 0.5] [--policy budgets/x.yaml]',
  flags,
  examples: [
    'eero serve --port 8080',
    'eero serve --model models/convnext-fmnist --budget 0.4',
    'eero serve --config serve.yaml --host 0.0.0.0',
    'eero serve --port 8080 --grpc-port 8081',
  ],
};

const logger: Logger = {
  info: (line) => process.stderr.write(`eero serve: ${line}\n`),
  warn: (line) => process.stderr.write(`eero serve: warning: ${line}\n`),
  error: (line) => process.stderr.write(`eero serve: error: ${line}\n`),
};

type ServeFlags = Record<string, string | boolean | undefined>;

async function configFrom(f: ServeFlags): Promise<ServeConfig> {
  // Without a config, the bundled model is the package's, wherever eero runs from (a config's paths are relative to it).
  const config =
    typeof f.config === 'string'
      ? await loadServeConfig(f.config, ROUTING_OPTIONS)
      : { ...defaultServeConfig(), models: defaultServeConfig().models.map((m) => ({ ...m, path: packagePath(m.path) })) };
  const port = numberFlag('port', (f.port as string | undefined) ?? process.env.PORT, { min: 0, max: 65535, integer: true });
  if (port !== undefined) config.port = port;
  const grpcPort = numberFlag('grpc-port', (f['grpc-port'] as string | undefined) ?? process.env.GRPC_PORT, {
    min: 0,
    max: 65535,
    integer: true,
  });
  if (grpcPort !== undefined) config.grpc = { port: grpcPort };
  if (config.grpc !== undefined && config.grpc.port !== 0 && config.grpc.port === config.port) {
    throw new EeroError('BAD_PARAMETER', `--grpc-port ${config.grpc.port} is the HTTP port too; give gRPC a port of its own`);
  }
  if (typeof f.host === 'string') config.host = f.host;
  if (typeof f.model === 'string') config.models = [{ name: path.basename(path.resolve(f.model)), path: f.model }];
  // Routing flags hold for every model, over its config entry: --budget is each model's B.
  const { budget, ...routing } = parseSurface(ROUTING_OPTIONS, 'flag', f);
  const policy = f.policy;
  config.models = config.models.map((m) => ({
    ...m,
    ...(budget ? { budget: budget as BudgetSpec } : {}),
    ...(typeof policy === 'string' ? { policy } : {}),
    routing: { ...m.routing, ...routing },
  }));
  return config;
}

export const serveCommand = defineCommand(spec, async (args) => {
  if (args.positionals.length > 0)
    throw new EeroError('BAD_PARAMETER', `serve takes no positional arguments (got ${args.positionals.join(' ')})`);
  const config = await configFrom(args.flags);
  logger.info(
    `config: ${args.flags.config ?? 'defaults'}; ${config.models.length} model(s); batching maxBatch ${config.batching.maxBatch}, maxWaitMs ${config.batching.maxWaitMs}, maxQueue ${config.batching.maxQueue}; ${config.engine.intraOpThreads} intra-op thread(s), ${config.engine.executionProvider}`,
  );
  // Signal handlers go in before the service starts (main holds the signals even earlier: signals.ts);
  // a signal during start-up lets the service finish starting, then closes it.
  let service: Service | undefined;
  let stopping = false;
  let finish: (code: number) => void = () => undefined;
  const exitCode = new Promise<number>((resolve) => (finish = resolve));
  // Ctrl-C is a person waiting, not a load balancer catching up: no drain for SIGINT.
  let drain = true;
  const shutdown = (running: Service): void => {
    running.close(undefined, { drain }).then(
      () => {
        detach();
        finish(0);
      },
      (e: unknown) => {
        logger.error(`shutdown failed: ${(e as Error).message}`);
        finish(1);
      },
    );
  };
  const detach = onSignals((signal) => {
    if (stopping) {
      logger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    drain = signal !== 'SIGINT';
    logger.info(`${signal}: shutting down`);
    // During start-up the service is closed as soon as it exists (below).
    if (service) shutdown(service);
  });
  try {
    // Loaded here: the server's modules (HTTP, gRPC, metrics) cost the other commands about 0.2 s of CPU at start.
    const { startService } = await import('../../server');
    service = await startService(config, { logger });
  } catch (e) {
    detach();
    throw e;
  }
  if (stopping) shutdown(service);
  return exitCode;
});

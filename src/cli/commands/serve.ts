import * as path from 'node:path';
import { defaultServeConfig, loadServeConfig, parseServeConfig, type ServeConfig } from '../../config';
import { EeroError } from '../../errors';
import { parseBudget } from '../../router';
import { startService, type Logger } from '../../server';
import { defineCommand, numberFlag, type CommandSpec } from '../args';

const flags = {
  config: { type: 'string', short: 'c', description: 'serve config YAML (models, batching, limits, engine)', valueName: 'file' },
  port: { type: 'string', short: 'p', description: "port (default: env PORT, else the config's, 8080)" },
  host: { type: 'string', description: "address to bind (default: the config's, 0.0.0.0)" },
  model: { type: 'string', short: 'm', description: "serve this one bundle folder instead of the config's models", valueName: 'dir' },
  budget: {
    type: 'string',
    short: 'b',
    description: 'default budget of every model: a fraction of the full model (0.5) or MACs (default 0.5)',
  },
  policy: { type: 'string', description: "a budgets/*.yaml policy as every model's default", valueName: 'file' },
} as const;

const spec: CommandSpec<typeof flags> = {
  name: 'serve',
  summary: 'Serve the HTTP API (/v1/classify, /v1/models, KServe v2, /metrics) with a live budget ledger.',
  usage: 'eero serve [--config file] [--port N] [--host H] [--model dir] [--budget 0.5] [--policy budgets/x.yaml]',
  flags,
  examples: ['eero serve --port 8080', 'eero serve --model models/convnext-fmnist --budget 0.4', 'eero serve --config serve.yaml'],
};

const logger: Logger = {
  info: (line) => process.stderr.write(`eero serve: ${line}\n`),
  warn: (line) => process.stderr.write(`eero serve: warning: ${line}\n`),
  error: (line) => process.stderr.write(`eero serve: error: ${line}\n`),
};

async function configFrom(f: {
  config?: string | undefined;
  port?: string | undefined;
  host?: string | undefined;
  model?: string | undefined;
  budget?: string | undefined;
  policy?: string | undefined;
}): Promise<ServeConfig> {
  const config = f.config ? await loadServeConfig(f.config) : defaultServeConfig();
  if (f.budget !== undefined && f.policy !== undefined) throw new EeroError('BAD_PARAMETER', 'give --budget or --policy, not both');
  const port = numberFlag('port', f.port ?? process.env.PORT, { min: 0, max: 65535, integer: true });
  if (port !== undefined) config.port = port;
  if (f.host !== undefined) config.host = f.host;
  if (f.model !== undefined) config.models = [{ name: path.basename(path.resolve(f.model)), path: f.model }];
  if (f.budget !== undefined) {
    const b = parseBudget(f.budget);
    const budget = 'fraction' in b ? b.fraction : b.macs;
    config.models = config.models.map(({ policy: _p, ...m }) => ({ ...m, budget }));
  }
  if (f.policy !== undefined) {
    const policy = f.policy;
    config.models = config.models.map(({ budget: _b, ...m }) => ({ ...m, policy }));
  }
  return parseServeConfig(config, f.config ?? 'command line');
}

export const serveCommand = defineCommand(spec, async (args) => {
  if (args.positionals.length > 0)
    throw new EeroError('BAD_PARAMETER', `serve takes no positional arguments (got ${args.positionals.join(' ')})`);
  const config = await configFrom(args.flags);
  logger.info(
    `config: ${args.flags.config ?? 'defaults'}; ${config.models.length} model(s); batching maxBatch ${config.batching.maxBatch}, maxWaitMs ${config.batching.maxWaitMs}, maxQueue ${config.batching.maxQueue}; ${config.engine.intraOpThreads} intra-op thread(s), ${config.engine.executionProvider}`,
  );
  const service = await startService(config, { logger });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn(`${signal} again: exiting now`);
        process.exit(1);
      }
      stopping = true;
      logger.info(`${signal}: shutting down`);
      service.close().then(
        () => {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          resolve(0);
        },
        (e: unknown) => {
          logger.error(`shutdown failed: ${(e as Error).message}`);
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
});

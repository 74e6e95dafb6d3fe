import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultServeConfig, loadServeConfig, parseServeConfig } from '../../src/config';
import { ROUTING_OPTIONS } from '../../src/pipeline';
import { EeroError } from '../../src/errors';
import { makeTempDir, removeDir } from './fake-bundle';

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(() => removeDir(dir));

async function write(text: string): Promise<string> {
  const file = join(dir, 'serve.yaml');
  await writeFile(file, text);
  return file;
}

describe('serve config', () => {
  test('defaults', () => {
    const d = defaultServeConfig();
    expect(d.batching).toEqual({ maxBatch: 32, maxWaitMs: 0, maxQueue: 1024 });
    expect(d.limits).toEqual({
      bodyBytes: 20 * 1024 * 1024,
      inputPixels: 40e6,
      filesPerRequest: 64,
      requestTimeoutMs: 30000,
      maxSide: 16384,
      maxAspectRatio: 100,
      decodeTimeoutSeconds: 5,
      decodeConcurrency: 0,
      largeImagePixels: 4_000_000,
      connectionsPerAddress: 256,
    });
    expect(d.engine).toEqual({ intraOpThreads: availableParallelism(), interOpThreads: 1, executionProvider: 'cpu', graph: 'auto' });
    expect(d.shutdown).toEqual({ drainMs: 5000 });
    expect(d.monitor).toEqual({ sampleRate: 0.02, reservoir: 4096, autoRecalibrate: false, minSamples: 500, agreementTarget: 0.99 });
    // Only this machine until asked: containers set 0.0.0.0 (deploy/).
    expect(d.host).toBe('127.0.0.1');
    expect(d.models).toEqual([{ name: 'resnet18-fmnist', path: 'models/resnet18-fmnist', routing: {} }]);
  });

  test('{} and an empty file are valid and equal the defaults (paths resolved against the file)', async () => {
    expect(parseServeConfig({}, 'flags')).toEqual(defaultServeConfig());
    const fromFile = await loadServeConfig(await write(''), ROUTING_OPTIONS);
    const want = defaultServeConfig();
    want.models = want.models.map((m) => ({ ...m, path: resolve(dir, m.path) }));
    expect(fromFile).toEqual(want);
  });

  test('a partial file keeps the other defaults; names default to the folder', async () => {
    const c = await loadServeConfig(
      await write(
        [
          'port: 9000',
          'models:',
          '  - {path: bundles/convnext-fmnist/, policy: /etc/eero/half.yaml, budget: 0.5}',
          '  - {name: r18, path: /abs/resnet}',
          'batching: {maxBatch: 8}',
          'engine: {executionProvider: cuda, intraOpThreads: 2}',
        ].join('\n'),
      ),
      ROUTING_OPTIONS,
    );
    expect(c.port).toBe(9000);
    expect(c.host).toBe(defaultServeConfig().host);
    expect(c.models).toEqual([
      {
        name: 'convnext-fmnist',
        path: resolve(dir, 'bundles/convnext-fmnist/'),
        policy: '/etc/eero/half.yaml',
        budget: { fraction: 0.5 },
        routing: {},
      },
      { name: 'r18', path: '/abs/resnet', routing: {} },
    ]);
    expect(c.batching).toEqual({ maxBatch: 8, maxWaitMs: 0, maxQueue: 1024 });
    expect(c.engine).toEqual({ intraOpThreads: 2, interOpThreads: 1, executionProvider: 'cuda', graph: 'auto' });
    // gRPC is off unless configured.
    expect(c.grpc).toBeUndefined();
    expect(parseServeConfig({ grpc: { port: 8081 } }, 'flags').grpc).toEqual({ port: 8081 });
  });

  test.each([
    ['port: 70000', 'port', /<= 65535/],
    ['port: "80"', 'port', /integer/],
    ['models: []', 'models', /at least 1/],
    ['models: [{name: a}]', 'models[0].path', /string/],
    ['models: [{path: x, budget: -1}]', 'models[0].budget', /budget/],
    ['models: [{path: x, budget: "lots"}]', 'models[0].budget', /neither a fraction/],
    ['models: [{path: x, score: sharpness}]', 'models[0].score', /one of margin, maxprob, entropy, learned/],
    ['shutdown: {drainMs: -5}', 'shutdown.drainMs', />= 0/],
    ['monitor: {sampleRate: 2}', 'monitor.sampleRate', /<= 1/],
    ['models: [{path: a/x}, {path: b/x}]', 'models[1].name', /duplicate/],
    ['models: [{path: x, name: "a b"}]', 'models[0].name', /letters/],
    ['batching: {maxBatch: 0}', 'batching.maxBatch', />= 1/],
    ['batching: {maxBatch: 64, maxQueue: 8}', 'batching.maxQueue', /maxBatch/],
    // A request is admitted whole: a queue smaller than one request would refuse it forever.
    ['batching: {maxBatch: 8, maxQueue: 16}', 'batching.maxQueue', /filesPerRequest \(64\)/],
    ['limits: {bodyBytes: 1.5}', 'limits.bodyBytes', /integer/],
    ['limits: {maxSide: 100000001}', 'limits.maxSide', /100000000/],
    ['limits: {maxAspectRatio: 0.5}', 'limits.maxAspectRatio', />= 1/],
    ['limits: {decodeConcurrency: -1}', 'limits.decodeConcurrency', />= 0/],
    ['limits: {connectionsPerAddress: 1.5}', 'limits.connectionsPerAddress', /integer/],
    ['limits: {timeout: 3}', 'limits.timeout', /unknown field/],
    ['engine: {executionProvider: tpu}', 'engine.executionProvider', /"cpu", "cuda"/],
    ['engine: {intraOpThreads: 0}', 'engine.intraOpThreads', />= 1/],
    ['batching: 5', 'batching', /mapping/],
    ['grpc: {port: 70000}', 'grpc.port', /<= 65535/],
    ['grpc: {host: x, port: 1}', 'grpc.host', /unknown field/],
    ['port: 8080\ngrpc: {port: 8080}', 'grpc.port', /other than the HTTP port 8080/],
  ])('%j → CONFIG_INVALID at %s', async (text, field, why) => {
    const file = await write(text);
    let error: unknown;
    await loadServeConfig(file, ROUTING_OPTIONS).catch((e) => (error = e));
    expect(error).toBeInstanceOf(EeroError);
    const e = error as EeroError;
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message.startsWith(`${file}: ${field}`)).toBe(true);
    expect(e.message).toMatch(why);
  });

  test('duplicate YAML keys and a missing file are CONFIG_INVALID', async () => {
    const file = await write('port: 1\nport: 2\n');
    await expect(loadServeConfig(file, ROUTING_OPTIONS)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(loadServeConfig(join(dir, 'none.yaml'), ROUTING_OPTIONS)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('file not found'),
    });
  });
});

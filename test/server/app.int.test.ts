/**
 * Routing, validation and errors through createApp(deps) with a fake model: no engine, a socket on
 * loopback only to speak HTTP. What the routes do with parameters is checked here; the real model
 * is exercised by the other server tests.
 */
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { defaultServeConfig } from '../../src/config';
import { EeroError } from '../../src/errors';
import { createMetrics, createRegistry } from '../../src/metrics';
import type { ClassifyAnswer, ClassifyRequest, ImageResult, RouteChoice } from '../../src/pipeline';
import { createApp, silentLogger, type AppDeps, type ModelDescription, type Phase, type ServedModel } from '../../src/server';
import { call, fixturePngs } from './harness';

const description: ModelDescription = {
  name: 'fake',
  bundle: 'fake-bundle',
  architecture: 'resnet18',
  input: { channels: 1, height: 32, width: 32, colorSpace: 'gray' },
  labels: ['cat', 'dog'],
  costUnit: 'macs',
  exits: [
    { exit: 1, macs: 10, fraction: 0.25, testAccuracy: 0.8 },
    { exit: 2, macs: 40, fraction: 1, testAccuracy: 0.9 },
  ],
  fullMacs: 40,
  budget: { limit: 0.5, source: 'flags', ledger: true, rule: 'eero' },
  feasibleBudget: { min: 0.25, max: 0.5 },
};

/** A model that answers 'cat' at exit 1 for every image, and records what it was asked. */
function fakeModel(asked: ClassifyRequest[], fail?: EeroError): ServedModel {
  return {
    name: 'fake',
    describe: () => description,
    ready: true,
    classify(images, request): Promise<ClassifyAnswer> {
      asked.push(request);
      if (fail) return Promise.reject(fail);
      const choice = {
        rule: 'eero',
        budget: 20,
        fraction: request.routing.budget && 'fraction' in request.routing.budget ? request.routing.budget.fraction : 0.5,
        deadlineMs: undefined,
        version: 1,
      } as unknown as RouteChoice;
      const result: ImageResult = {
        label: 'cat',
        classIndex: 0,
        probability: 0.9,
        topk: [{ label: 'cat', classIndex: 0, probability: 0.9 }],
        exit: 1,
        exits: 2,
        macs: 10,
        costFraction: 0.25,
        forced: false,
        stoppedBy: 'confidence',
        thresholdsVersion: 1,
      };
      return Promise.resolve({
        choice,
        outcomes: images.map((img) =>
          img instanceof EeroError
            ? { ok: false, error: img }
            : { ok: true, result, timings: { queueMs: 0, preprocessMs: 1, inferenceMs: 1, batchSize: 1 } },
        ),
      });
    },
  };
}

let server: Server;
let base: string;
let phase: Phase = 'serving';
const asked: ClassifyRequest[] = [];
let failure: EeroError | undefined;

beforeAll(async () => {
  const registry = createRegistry();
  const deps: AppDeps = {
    models: new Map([['fake', { ...fakeModel(asked), classify: (i, r) => fakeModel(asked, failure).classify(i, r) }]]),
    defaultModel: 'fake',
    metrics: createMetrics(registry),
    registry,
    limits: { ...defaultServeConfig().limits, bodyBytes: 64 * 1024, filesPerRequest: 4 },
    logger: silentLogger,
    clock: () => 0,
    phase: () => phase,
    adminToken: 'sesame',
  };
  server = createServer(createApp(deps));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  phase = 'serving';
  asked.length = 0;
  failure = undefined;
});

const png = (): Buffer => fixturePngs()[0] as Buffer;
const post = (query: string, body: Buffer | string = png(), headers: Record<string, string> = { 'content-type': 'image/png' }) =>
  call<Record<string, unknown> & { error?: { code: string; message: string } }>(`${base}/v1/classify${query}`, {
    method: 'POST',
    body,
    headers,
  });

describe('parameters become one routing request', () => {
  test('query parameters: budget, score, beta, deadline, topk, trace', async () => {
    expect((await post('?budget=40%25&score=entropy&beta=0.1&deadline_ms=250&topk=2&trace=1')).status).toBe(200);
    expect(asked[0]).toEqual(expect.objectContaining({ topk: 2, trace: true }));
    expect(asked[0]?.routing).toEqual({ budget: { fraction: 0.4 }, score: 'entropy', beta: 0.1, deadlineMs: 250 });
  });

  test('a certified guarantee from agreement and delta', async () => {
    expect((await post('?agreement=0.99&delta=0.1')).status).toBe(200);
    expect(asked[0]?.routing.guarantee).toEqual({ agreement: 0.99, delta: 0.1 });
  });

  test.each([
    ['?budget=lots', /neither a fraction/],
    ['?agreement=2', /agreement must be/],
    ['?delta=0.1', /delta needs agreement/],
    ['?agreement=0.99&accuracy_target=0.9', /not both/],
    ['?deadline_ms=-1', /deadline_ms/],
    ['?beta=0', /beta/],
    ['?score=vibes', /score must be one of margin, maxprob, entropy, learned/],
    ['?topk=0', /topk/],
    ['?budget=0.5&budget=0.4', /more than once/],
  ])('%s is a 422 BAD_PARAMETER naming the parameter', async (query, why) => {
    const res = await post(query);
    expect([res.status, res.body.error?.code]).toEqual([422, 'BAD_PARAMETER']);
    expect(res.body.error?.message).toMatch(why);
    expect(asked).toHaveLength(0);
  });

  test('a form field given twice is refused like a repeated query parameter', async () => {
    const form = new FormData();
    form.append('budget', '0.4');
    form.append('budget', '0.3');
    form.append('image', new Blob([png()], { type: 'image/png' }), 'a.png');
    const res = await call<{ error: { code: string; message: string } }>(`${base}/v1/classify`, { method: 'POST', body: form });
    expect([res.status, res.body.error.code]).toEqual([422, 'BAD_PARAMETER']);
    expect(res.body.error.message).toMatch(/"budget" is given more than once/);
  });

  test('a UTF-8 multipart file name comes back as sent', async () => {
    const form = new FormData();
    form.append('image', new Blob([png()], { type: 'image/png' }), 'café 猫.png');
    const res = await call<{ results: Array<{ file: string }> }>(`${base}/v1/classify`, { method: 'POST', body: form });
    expect(res.body.results[0]?.file).toBe('café 猫.png');
  });

  test("the model's own errors keep their status: a budget above the limit is 422 BUDGET_ABOVE_LIMIT", async () => {
    failure = new EeroError('BUDGET_ABOVE_LIMIT', 'budget 90% is above this model limit 50%');
    const res = await post('?budget=0.9');
    expect([res.status, res.body.error?.code]).toEqual([422, 'BUDGET_ABOVE_LIMIT']);
  });
});

describe('routes, methods and shutdown', () => {
  test('GET /v1/models describes the model; HEAD works; a wrong method is 405 with Allow', async () => {
    const res = await call<{ models: Array<ModelDescription & { ready: boolean }> }>(`${base}/v1/models`);
    expect(res.body.models[0]).toEqual({ ...description, ready: true });
    expect((await fetch(`${base}/v1/models`, { method: 'HEAD' })).status).toBe(200);
    const wrong = await call<{ error: { code: string } }>(`${base}/v2/models/fake/infer`);
    expect([wrong.status, wrong.body.error, wrong.headers.get('allow')]).toEqual([
      405,
      expect.stringMatching(/^METHOD_NOT_ALLOWED: /),
      'POST',
    ]);
  });

  test('an empty v2 body is 400 EMPTY_INPUT with a message that says what to send', async () => {
    const res = await call<{ error: string }>(`${base}/v2/models/fake/infer`, {
      method: 'POST',
      body: '',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^EMPTY_INPUT: the request body is empty; send a JSON inference request/);
  });

  test('recalibration is an admin route: 401 without the token, 422 when the model offers none', async () => {
    const no = await call<{ error: { code: string } }>(`${base}/v1/models/fake/recalibrate`, { method: 'POST' });
    expect([no.status, no.body.error.code]).toEqual([401, 'UNAUTHORIZED']);
    const yes = await call<{ error: { code: string } }>(`${base}/v1/models/fake/recalibrate`, {
      method: 'POST',
      headers: { authorization: 'Bearer sesame' },
    });
    expect([yes.status, yes.body.error.code]).toEqual([422, 'BAD_PARAMETER']);
  });

  test('draining: not ready at once, still answering (which answers close their connection is up to the listener)', async () => {
    phase = 'draining';
    expect((await call(`${base}/readyz`)).status).toBe(503);
    expect((await call(`${base}/v2/health/ready`)).status).toBe(503);
    expect((await call(`${base}/healthz`)).status).toBe(200);
    expect((await post('')).status).toBe(200);
  });

  test('closing: a request on a still-open connection gets 503 SHUTTING_DOWN with Connection: close and Retry-After', async () => {
    phase = 'closing';
    const res = await post('');
    expect([res.status, res.body.error?.code]).toEqual([503, 'SHUTTING_DOWN']);
    expect(res.headers.get('connection')).toBe('close');
    expect(res.headers.get('retry-after')).toBe('1');
    expect(asked).toHaveLength(0);
  });
});

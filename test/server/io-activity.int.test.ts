/**
 * Connections that arrive together are read before a batch forms: libuv accepts one connection per
 * loop turn and an engine run holds its turn, so without settling each new connection waited one run.
 */
import type { Service } from '../../src/server';
import { fixturePngs, metricSum, startTestService } from './harness';
import { rawRequest } from './raw-http';

describe('requests on new connections under load', () => {
  let service: Service;
  beforeAll(async () => {
    // The service's defaults: a batch starts as soon as the engine is free (maxWaitMs 0).
    service = await startTestService({ batching: { maxBatch: 32, maxWaitMs: 0 } });
  });
  afterAll(() => service.close(0));

  test('24 clients connecting at once are read before the batch forms: a run or two, not one run per connection', async () => {
    const port = Number(new URL(service.url).port);
    const png = fixturePngs()[0] as Buffer;
    // One series per engine path (graph, stages), none before the first run.
    const engineRuns = (): Promise<number> => metricSum(service.url, 'eero_inference_executions_total');
    for (let round = 0; round < 2; round++) {
      const before = await engineRuns();
      // rawRequest: one request per connection of its own, as a client without keep-alive sends.
      const answers = await Promise.all(
        Array.from({ length: 24 }, () =>
          rawRequest(port, { path: '/v1/classify', headers: { 'content-type': 'image/png' }, body: png, timeoutMs: 120_000 }),
        ),
      );
      expect(answers.map((a) => (a.kind === 'answer' ? a.status : a.kind))).toEqual(new Array<number>(24).fill(200));
      // Accepted one per engine run, they took 9-13 runs before the batcher settled.
      expect((await engineRuns()) - before).toBeLessThanOrEqual(3);
    }
  });
});

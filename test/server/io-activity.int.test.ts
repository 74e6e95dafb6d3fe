/**
 * Connections that arrive together are read before a batch forms: libuv accepts one connection per
 * loop turn and an engine run holds its turn, so without settling each new connection waited one run.
 */
import { request } from 'node:http';
import type { Service } from '../../src/server';
import { fixturePngs, startTestService } from './harness';

/** One POST on a connection of its own (no keep-alive agent): a client that connects per request. */
function postOnNewConnection(url: URL, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: '/v1/classify',
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'image/png', 'content-length': body.length },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function engineRuns(service: Service): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  // One series per engine path (graph, stages), none before the first run.
  return [...text.matchAll(/^eero_inference_executions_total\{[^}]*\} (\S+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

describe('requests on new connections under load', () => {
  let service: Service;
  beforeAll(async () => {
    // The service's defaults: a batch starts as soon as the engine is free (maxWaitMs 0).
    service = await startTestService({ batching: { maxBatch: 32, maxWaitMs: 0 } });
  });
  afterAll(() => service.close(0));

  test('24 clients connecting at once are read before the batch forms: a run or two, not one run per connection', async () => {
    const url = new URL(service.url);
    const png = fixturePngs()[0] as Buffer;
    for (let round = 0; round < 2; round++) {
      const before = await engineRuns(service);
      const statuses = await Promise.all(Array.from({ length: 24 }, () => postOnNewConnection(url, png)));
      expect(statuses).toEqual(new Array<number>(24).fill(200));
      // Accepted one per engine run, they took 9-13 runs before the batcher settled.
      expect((await engineRuns(service)) - before).toBeLessThanOrEqual(3);
    }
  });
});

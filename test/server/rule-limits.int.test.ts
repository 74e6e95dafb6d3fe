/**
 * New routing rules are limited per client and per address: a sender that makes up an API key for
 * every request cannot make the service derive rules without end (each holds the event loop), and a
 * client on another address still gets its new rule. A real service on loopback; its rule clock
 * stands still, so no window passes during the test.
 */
import { request } from 'node:http';
import type { Service } from '../../src/server';
import { DEFAULT_DERIVATION_LIMITS } from '../../src/pipeline/derivation-limiter';
import { call, fixturePngs, startTestService } from './harness';

let service: Service;
beforeAll(async () => {
  service = await startTestService({}, { ruleClock: () => 0 });
});
afterAll(() => service?.close());

interface Reply {
  status: number;
  retryAfter: string | undefined;
  body: { budget?: { rule: string }; error?: { code: string } };
}

/** One image with a new accuracy target, sent from `localAddress` with API key `key`. */
function ask(target: number, key: string, localAddress: string): Promise<Reply> {
  const png = fixturePngs()[0] as Buffer;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: service.port,
        localAddress,
        method: 'POST',
        path: `/v1/classify?accuracy_target=${target}`,
        headers: { 'content-type': 'image/png', 'x-api-key': key, 'content-length': png.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const retry = res.headers['retry-after'];
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: Array.isArray(retry) ? retry[0] : retry,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Reply['body'],
          });
        });
      },
    );
    req.on('error', reject);
    req.end(png);
  });
}

describe('limits on new routing rules', () => {
  test('a new key per request stops at its address limit; another address gets its new rule', async () => {
    const perAddress = DEFAULT_DERIVATION_LIMITS.perAddress;
    for (let i = 0; i < perAddress; i++) {
      const r = await ask(0.8 + i / 1000, `made-up-${i}`, '127.0.0.1');
      expect([r.status, r.body.budget?.rule]).toEqual([200, 'accuracy-target']);
    }
    const refused = await ask(0.8 + perAddress / 1000, `made-up-${perAddress}`, '127.0.0.1');
    expect([refused.status, refused.body.error?.code, refused.retryAfter]).toEqual([503, 'OVERLOADED', '5']);
    // A rule already derived costs nothing: it is served to a new key on the same address.
    expect((await ask(0.8, 'made-up-again', '127.0.0.1')).status).toBe(200);
    const elsewhere = await ask(0.8 + perAddress / 1000, 'another-client', '127.0.0.2');
    expect([elsewhere.status, elsewhere.body.budget?.rule]).toEqual([200, 'accuracy-target']);
    const metrics = (await call<string>(`${service.url}/metrics`)).body;
    expect(metrics).toContain('eero_rule_derivations_total{model="resnet18-fmnist",result="refused"} 1');
    expect(metrics).toContain(`eero_rule_derivations_total{model="resnet18-fmnist",result="computed"} ${perAddress + 1}`);
  });
});

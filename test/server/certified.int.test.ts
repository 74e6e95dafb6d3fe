/** Certified agreement end to end: a policy file's guarantee, and the same guarantee asked per request (v1 and v2). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Service } from '../../src/server';
import { call, fixturePngs, postImage, testConfig, type ImageJson } from './harness';
import { startService } from '../../src/server';

let service: Service;
beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'eero-certified-'));
  const policy = path.join(dir, 'certified.yaml');
  writeFileSync(policy, 'name: certified\nmodel: resnet18-fmnist\nbudget: 0.6\nguarantee: {agreement: 0.99, delta: 0.05}\n');
  const config = testConfig();
  config.models = config.models.map((m) => ({ ...m, policy }));
  service = await startService(config, { defaultMetrics: false });
});
afterAll(() => service?.close());

describe('certified agreement through the service', () => {
  test("a policy's guarantee routes every default request by the certified thresholds, and promises its agreement to the alert", async () => {
    const models = await call<{ models: Array<{ budget: { rule: string; limit: number } }> }>(`${service.url}/v1/models`);
    expect(models.body.models[0]?.budget).toMatchObject({ rule: 'certified', limit: 0.6 });
    // The ledger starts with no savings: an answer it would force early is refused unless the client allows it marked.
    const r = await postImage<ImageJson & { certified: boolean; forced: boolean }>(service.url, fixturePngs()[0]!, '?allow_uncertified=1');
    expect(r.body.budget.rule).toBe('certified');
    expect(r.body.certified).toBe(!r.body.forced);
    const text = (await call<string>(`${service.url}/metrics`)).body;
    expect(text).toContain('eero_monitor_agreement_target_ratio{model="resnet18-fmnist"} 0.99');
  });

  test('a request may ask a guarantee itself (v1 query, v2 parameters)', async () => {
    // allow_uncertified: the ledger may not yet have the savings this image's certified exits need (certified-or-refused.test.ts).
    const v1 = await postImage<ImageJson>(service.url, fixturePngs()[1]!, '?agreement=0.995&delta=0.1&allow_uncertified=1');
    expect([v1.status, v1.body.budget.rule]).toEqual([200, 'certified']);
    const v2 = await call<{ parameters: { budget_rule: string } }>(`${service.url}/v2/models/resnet18-fmnist/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: [fixturePngs()[2]!.toString('base64')] }],
        parameters: { agreement: 0.995, delta: 0.1, allow_uncertified: true },
      }),
    });
    expect([v2.status, v2.body.parameters.budget_rule]).toEqual([200, 'certified']);
  });

  test('a guarantee that needs more than the budget asked is a 422 GUARANTEE_INFEASIBLE naming the cheapest budget that meets it', async () => {
    const r = await postImage<{ error: { code: string; message: string; details: { cheapestCertifiedFraction: number } } }>(
      service.url,
      fixturePngs()[0]!,
      '?agreement=0.99&delta=0.05&budget=0.2',
    );
    expect([r.status, r.body.error.code]).toEqual([422, 'GUARANTEE_INFEASIBLE']);
    expect(r.body.error.details.cheapestCertifiedFraction).toBeGreaterThan(0.2);
    expect(r.body.error.message).toMatch(/cheapest|at least/);
  });
});

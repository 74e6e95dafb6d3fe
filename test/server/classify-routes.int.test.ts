import sharp from 'sharp';
import type { Service } from '../../src/server';
import { call, fixturePngs, metricSum, pool, postFiles, postImage, startTestService, type ImageJson } from './harness';

let service: Service;
let base: string;
let pngs: Buffer[];
interface ModelJson {
  name: string;
  labels: string[];
  exits: Array<{ exit: number; macs: number; fraction: number; testAccuracy: number }>;
  feasibleBudget: { min: number; max: number };
  budget: { limit: number; source: string; ledger: boolean; rule: string };
  ready: boolean;
}
let model: ModelJson;

beforeAll(async () => {
  // Served at budget 1, so that requests may ask for any budget (a request may only ask for less than B).
  service = await startTestService({ budget: 1 });
  base = service.url;
  pngs = fixturePngs();
  model = (await call<{ models: ModelJson[] }>(`${base}/v1/models`)).body.models[0] as ModelJson;
});
afterAll(() => service?.close());

describe('POST /v1/classify and the model routes on a real server', () => {
  test('a raw PNG body is classified with label, top-k, exit, cost, timings', async () => {
    const res = await postImage<ImageJson>(base, pngs[0] as Buffer, '?topk=3');
    expect(res.status).toBe(200);
    const r = res.body;
    expect(model.labels).toContain(r.label);
    expect(r.topk).toHaveLength(3);
    expect(r.topk[0]?.label).toBe(r.label);
    expect(r.exits).toBe(model.exits.length);
    expect(r.exit).toBeGreaterThanOrEqual(1);
    expect(r.exit).toBeLessThanOrEqual(r.exits);
    expect(r.cost.macs).toBe(model.exits[r.exit - 1]?.macs);
    expect(r.cost.fraction).toBeCloseTo(model.exits[r.exit - 1]?.fraction as number, 9);
    expect(r.budget).toEqual({ limit: 1, requested: 1, rule: 'eero', thresholdsVersion: 1 });
    expect(r.stoppedBy).toMatch(/^(confidence|last-exit)$/);
    expect(r.timings.preprocessMs).toBeGreaterThan(0);
    expect(r.timings.inferenceMs).toBeGreaterThan(0);
    expect(r.timings.queueMs).toBeGreaterThanOrEqual(0);
    expect(r.trace).toBeUndefined();
  });

  test('the bytes decide, not the Content-Type: a JPEG sent as application/octet-stream or mislabelled image/png is classified', async () => {
    const jpeg = await sharp(pngs[1]).jpeg().toBuffer();
    expect((await postImage(base, jpeg, '', 'application/octet-stream')).status).toBe(200);
    expect((await postImage(base, jpeg, '', 'image/png')).status).toBe(200);
    const webp = await sharp(pngs[2]).resize(200, 150).webp().toBuffer();
    expect((await postImage(base, webp, '', 'image/webp')).status).toBe(200);
  });

  test('trace=1 reports the score at every exit the image passed, ending at its exit', async () => {
    const r = (await postImage<ImageJson>(base, pngs[3] as Buffer, '?trace=1')).body;
    expect(r.trace?.map((t) => t.exit)).toEqual(Array.from({ length: r.exit }, (_, i) => i + 1));
    expect(r.trace?.[r.exit - 1]?.label).toBe(r.label);
  });

  test('multipart with several files answers each in order, one bad file inline without failing the rest', async () => {
    const files = [
      { name: 'a.png', bytes: pngs[0] as Buffer },
      { name: 'junk.bin', bytes: Buffer.from('not an image at all'), type: 'application/octet-stream' },
      { name: 'b.png', bytes: pngs[1] as Buffer },
    ];
    const res = await postFiles<{ model: string; results: Array<ImageJson & { file: string; error?: { code: string; message: string } }> }>(
      base,
      files,
      { budget: '1', topk: '2' },
    );
    expect(res.status).toBe(200);
    const [a, junk, b] = res.body.results;
    expect(res.body.results.map((r) => r.file)).toEqual(['a.png', 'junk.bin', 'b.png']);
    expect(a?.topk).toHaveLength(2);
    expect(a?.budget.requested).toBe(1);
    expect(junk?.error?.code).toBe('NOT_AN_IMAGE');
    expect(b?.label).toBeDefined();
  });

  test('the per-request budget changes the realised exit mix: budget 1 reaches further than the cheapest feasible budget', async () => {
    const cheapest = model.feasibleBudget.min;
    const run = (budget: number): Promise<ImageJson[]> =>
      pool(pngs.length, 4, async (i) => (await postImage<ImageJson>(base, pngs[i] as Buffer, `?budget=${budget}`)).body);
    const low = await run(cheapest);
    const high = await run(1);
    const mean = (rs: ImageJson[]): number => rs.reduce((s, r) => s + r.cost.fraction, 0) / rs.length;
    expect(low.every((r) => r.exit === 1)).toBe(true);
    expect(mean(low)).toBeCloseTo(cheapest, 9);
    expect(mean(high)).toBeGreaterThan(mean(low));
    expect(new Set(high.map((r) => r.exit)).size).toBeGreaterThan(1);
  });

  test('GET /v1/models lists exits with cumulative MACs, fractions, test accuracy, the budget and the feasible range', async () => {
    const res = await call<{ defaultModel: string; models: ModelJson[] }>(`${base}/v1/models`);
    expect(res.status).toBe(200);
    expect(res.body.defaultModel).toBe('resnet18-fmnist');
    const loaded = service.models.get('resnet18-fmnist')?.model;
    expect(model.exits.map((e) => e.macs)).toEqual(Array.from(loaded?.costs.macs ?? []));
    expect(model.exits.map((e) => e.testAccuracy)).toEqual(loaded?.manifest.exits.map((e) => e.testAccuracy));
    expect(model.exits.at(-1)?.fraction).toBe(1);
    expect(model.feasibleBudget).toEqual({ min: model.exits[0]?.fraction, max: 1 });
    expect(model.budget).toEqual({ limit: 1, source: 'flags', ledger: true, rule: 'eero' });
    expect(model.ready).toBe(true);
    expect(model.labels).toEqual(loaded?.labels);
  });

  test('health answers are carried by the status code', async () => {
    expect((await call(`${base}/healthz`)).status).toBe(200);
    expect((await call(`${base}/readyz`)).status).toBe(200);
  });

  test('/metrics counts requests by route pattern, images by exit, batches, phases and the queue depth', async () => {
    await postImage(base, pngs[4] as Buffer);
    await call(`${base}/v2/models/resnet18-fmnist`);
    await call(`${base}/no/such/path/42`);
    const text = (await call<string>(`${base}/metrics`)).body;
    expect(text).toContain('eero_requests_total{route="/v1/classify",status="200",protocol="rest"}');
    expect(text).toContain('eero_requests_total{route="/v2/models/:name",status="200",protocol="rest"}');
    expect(text).toContain('eero_requests_total{route="unmatched",status="404",protocol="rest"}');
    expect(text).not.toContain('/no/such/path');
    expect(text).toMatch(/eero_phase_duration_seconds_count\{model="resnet18-fmnist",phase="queue"\} [1-9]/);
    expect(text).toMatch(/eero_phase_duration_seconds_count\{model="resnet18-fmnist",phase="preprocess"\} [1-9]/);
    expect(text).toMatch(/eero_phase_duration_seconds_count\{model="resnet18-fmnist",phase="inference"\} [1-9]/);
    // Stage timings come from the stage chain (a single image takes it); the one-graph engine reports its batch as
    // the inference phase, with no stage timings. Every chain run times stage 1: as many observations as chain runs.
    const chainRuns = await metricSum(base, 'eero_inference_executions_total', { model: 'resnet18-fmnist', path: 'stages' });
    expect(chainRuns).toBeGreaterThan(0);
    expect(await metricSum(base, 'eero_stage_duration_seconds_count', { model: 'resnet18-fmnist', stage: '1' })).toBe(chainRuns);
    expect(text).toContain('eero_queue_depth{model="resnet18-fmnist"} 0');
    expect(text).toContain('eero_budget_target_ratio{model="resnet18-fmnist"} 1');
    expect(await metricSum(base, 'eero_inference_images_total')).toBe(await metricSum(base, 'eero_images_total'));
    // metricSum reads a missing series as 0: the series must be there before its value says anything.
    expect(text).toMatch(/^eero_ledger_credit_macs\{model="resnet18-fmnist"\} \S+$/m);
    expect(await metricSum(base, 'eero_ledger_credit_macs', { model: 'resnet18-fmnist' })).toBeGreaterThanOrEqual(0);
    expect(await metricSum(base, 'eero_thresholds_version', { model: 'resnet18-fmnist' })).toBe(1);
  });

  test('/metrics counts images asked with deadline_ms by whether their answer was ready in time', async () => {
    const count = (result: string) => metricSum(base, 'eero_deadline_outcomes_total', { model: 'resnet18-fmnist', result });
    const [met, missed] = [await count('met'), await count('missed')];
    // A minute is always enough; a microsecond never is (decoding alone takes longer): both still answered.
    expect((await postImage(base, pngs[5] as Buffer, '?deadline_ms=60000')).status).toBe(200);
    const late = await postImage<ImageJson>(base, pngs[6] as Buffer, '?deadline_ms=0.001');
    expect(late.status).toBe(200);
    expect(late.body.exit).toBe(1);
    expect(await count('met')).toBe(met + 1);
    expect(await count('missed')).toBe(missed + 1);
  });
});

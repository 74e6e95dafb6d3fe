import { REALISED_BUDGET_RATIO_PROMQL } from '../../src/metrics';
import type { Service } from '../../src/server';
import { hasBinary, startPrometheus, type PrometheusHandle } from '../support/prometheus';
import { fixturePngs, pool, postImage, startTestService, type ImageJson } from './harness';

const hasPrometheus = hasBinary('prometheus');
const suite = hasPrometheus ? describe : describe.skip;
const why = hasPrometheus ? '' : ' [skipped: prometheus is not on PATH]';
const TARGET = 0.5;

suite(`a real Prometheus scraping the running service${why}`, () => {
  let service: Service | undefined;
  let prometheus: PrometheusHandle | undefined;
  let pngs: Buffer[];

  const round = (n: number): Promise<ImageJson[]> =>
    pool(n, 8, async (i) => {
      const res = await postImage<ImageJson>((service as Service).url, pngs[i % pngs.length] as Buffer);
      expect(res.status).toBe(200);
      return res.body;
    });

  beforeAll(async () => {
    service = await startTestService({ budget: TARGET }, { defaultMetrics: true });
    pngs = fixturePngs();
    // Before the first scrape: every exit series this mix reaches exists, so rate() sees each from its start.
    await round(64);
    prometheus = await startPrometheus({ targets: [`127.0.0.1:${service.port}`], scrapeIntervalSeconds: 1 });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await service?.close();
  });

  test('the realised budget ratio (REALISED_BUDGET_RATIO_PROMQL) stays at or under the 0.5 target', async () => {
    const p = prometheus as PrometheusHandle;
    const s = service as Service;
    const loaded = s.models.get('resnet18-fmnist')?.model;
    const full = loaded?.costs.full as number;
    await p.waitForScrapes(2);
    const credit = loaded?.routing.ledger?.snapshot().credit ?? 0;
    const n = 96;
    const answers: ImageJson[] = [];
    for (let part = 0; part < 3; part++) answers.push(...(await round(n / 3))); // spread over several scrapes
    expect(answers.every((a) => a.budget.limit === TARGET)).toBe(true);
    const total = 64 + n;
    await p.waitForValue(`sum(eero_images_total{model="resnet18-fmnist"})`, (v) => v === total);
    await p.waitForScrapes(2);
    const samples = await p.queryVector(REALISED_BUDGET_RATIO_PROMQL);
    const realised = samples.find((x) => x.labels.model === 'resnet18-fmnist')?.value;
    expect(realised).toBeDefined();
    /*
     * The strict ledger's guarantee over this window of n images: spend <= n B + credit, where credit is
     * what the 64 images before the first scrape saved (B x images - spent, capped). So the ratio is at most
     * B + credit / (n full). rate() compares the same scrapes for both counters, so it adds no error of its
     * own beyond a series first seen mid-window; the warm-up round above makes that unlikely, and 0.01 covers it.
     */
    const tolerance = credit / (n * full) + 0.01;
    expect(realised as number).toBeLessThanOrEqual(TARGET + tolerance);
    // And it agrees with what the answers themselves say was spent (rate() over the window covers these n).
    const direct = answers.reduce((sum, a) => sum + a.cost.fraction, 0) / n;
    expect(realised as number).toBeCloseTo(direct, 1);
    process.stdout.write(
      `realised budget ratio via Prometheus ${(realised as number).toFixed(4)} (direct ${direct.toFixed(4)}), target ${TARGET}, tolerance ${tolerance.toFixed(4)}\n`,
    );
  });
});

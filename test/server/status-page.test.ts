/**
 * The status page at GET /: its script's pure part in Node, then the whole page in a real Chromium (Debian's
 * /usr/bin/chromium driven by puppeteer-core) against a real service: no console errors, the numbers of
 * /metrics after the page's next poll, and a dropped image's answer and trace.
 * EERO_SCREENSHOT=docs/status-page.png also writes a screenshot of the page with the trace shown.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { runInNewContext, Script } from 'node:vm';
import puppeteer, { type Browser, type HTTPResponse, type Page } from 'puppeteer-core';
import { startService, type Service } from '../../src/server';
import { STATUS_PAGE_LIB } from '../../src/server/status-page/client-lib';
import { STATUS_PAGE_SCRIPT } from '../../src/server/status-page/document';
import { RESNET_BUNDLE } from '../support/bundles';
import { call, fixturePngs, pool, postImage, testConfig, type ImageJson } from './harness';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const browserSuite = hasChromium ? describe : describe.skip;
const why = hasChromium ? '' : ` [skipped: ${CHROMIUM} is absent; scripts/setup-system.sh installs Debian's chromium]`;
const MODEL = 'resnet18-fmnist';
const POLL_MS = 300;

/** The browser globals the page-context callbacks use: this is Node code, compiled without the DOM lib. */
interface PageElement {
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  querySelector(selector: string): PageElement | null;
  dispatchEvent(event: DragEvent): boolean;
}
declare const document: { body: PageElement; getElementById(id: string): PageElement | null };
declare class DataTransfer {
  readonly items: { add(file: File): unknown };
}
declare class DragEvent {
  constructor(type: string, init: { dataTransfer: DataTransfer; bubbles: boolean; cancelable: boolean });
}

interface Agreement {
  ratio: number;
  lower?: number;
  upper?: number;
  samples?: number;
}

interface Lib {
  snapshot(text: string, t: number): unknown;
  modelView(
    cur: unknown,
    prev: unknown,
    desc: unknown,
  ): {
    images: number;
    realised: number | null;
    byExit: Record<string, number>;
    forced: number;
    agreement: Agreement | null;
    agreementByExit: Record<string, Agreement | null>;
  };
  histogramQuantile(q: number, buckets: Array<{ le: number; count: number }>): { seconds: number; above: boolean } | undefined;
  requestView(cur: unknown, prev: unknown): { requests: number; errors: number; perSecond: number } | null;
}

describe('status page script, without a browser', () => {
  // A fresh realm with no DOM: proof that the lib needs none.
  const lib = runInNewContext(`(${STATUS_PAGE_LIB})()`) as Lib;

  test('the inlined script is valid JavaScript', () => {
    expect(() => new Script(STATUS_PAGE_SCRIPT)).not.toThrow();
  });

  test('parses the exposition format and derives a model view', () => {
    const text = [
      '# HELP eero_images_total Images',
      '# TYPE eero_images_total counter',
      'eero_images_total{model="m",exit="1"} 3',
      'eero_images_total{model="m",exit="2"} 1',
      'eero_images_total{model="other",exit="1"} 100',
      'eero_macs_spent_total{model="m"} 250',
      'eero_model_full_cost_macs{model="m"} 100',
      'eero_forced_exits_total{model="m",reason="ledger"} 2 1700000000000',
      'eero_monitor_agreement_ratio{model="m",exit="all"} 0.75',
      'eero_monitor_agreement_lower_ratio{model="m",exit="all"} 0.3',
      'eero_monitor_agreement_upper_ratio{model="m",exit="all"} 0.95',
      'eero_monitor_agreement_ratio{model="m",exit="1"} 0.5',
      'eero_monitor_agreement_ratio{model="m",exit="2"} NaN',
      'eero_monitor_samples_total{model="m",exit="1"} 2',
      'eero_monitor_samples_total{model="m",exit="2"} 2',
      'eero_requests_total{route="/v1/classify",status="200"} 4',
      'eero_requests_total{route="/metrics",status="200"} 9',
      'eero_requests_total{route="/v2/models/:name/infer",status="422"} 1',
    ].join('\n');
    const desc = { name: 'm', fullMacs: 100, budget: { limit: 0.5 }, exits: [{ exit: 1 }, { exit: 2 }] };
    const v = lib.modelView(lib.snapshot(text, 1000), null, desc);
    expect(v).toMatchObject({ images: 4, realised: 250 / 4 / 100, byExit: { '1': 3, '2': 1 }, forced: 2, target: 0.5 });
    expect(v.agreement).toEqual({ ratio: 0.75, lower: 0.3, upper: 0.95, samples: 4 });
    expect(v.agreementByExit).toEqual({ '1': { ratio: 0.5, lower: undefined, upper: undefined, samples: 2 }, '2': null });
    // No monitor series at all, or none sampled yet: nothing to show ("no samples yet" on the page).
    expect(lib.modelView(lib.snapshot('eero_images_total{model="m",exit="1"} 3', 0), null, desc).agreement).toBeNull();
    const unsampled = 'eero_monitor_agreement_ratio{model="m",exit="all"} 1\neero_monitor_samples_total{model="m",exit="1"} 0';
    expect(lib.modelView(lib.snapshot(unsampled, 0), null, desc).agreement).toBeNull();
    const before = lib.snapshot('eero_requests_total{route="/v1/classify",status="200"} 1', 0);
    expect(lib.requestView(lib.snapshot(text, 2000), before)).toMatchObject({ requests: 4, errors: 1, perSecond: 2 });
  });

  test('histogram quantiles interpolate like histogram_quantile', () => {
    const b = [
      { le: 0.1, count: 50 },
      { le: 0.2, count: 100 },
      { le: Infinity, count: 100 },
    ];
    expect(lib.histogramQuantile(0.5, b)?.seconds).toBeCloseTo(0.1, 12);
    expect(lib.histogramQuantile(0.75, b)?.seconds).toBeCloseTo(0.15, 12);
    expect(
      lib.histogramQuantile(0.99, [
        { le: 0.1, count: 1 },
        { le: Infinity, count: 10 },
      ]),
    ).toEqual({ seconds: 0.1, above: true });
    expect(lib.histogramQuantile(0.5, [{ le: Infinity, count: 0 }])).toBeUndefined();
  });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The sum of the series of `name` carrying every given label in one /metrics text; undefined when there is none. */
function sumIn(text: string, name: string, labels: Record<string, string>): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const ls = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => ls.includes(`${k}="${v}"`))) sum = (sum ?? 0) + Number(m[3]);
  }
  return sum;
}

browserSuite(`GET / in a real Chromium${why}`, () => {
  let service: Service;
  let browser: Browser;
  let page: Page;
  let profile: string;
  const problems: string[] = [];

  beforeAll(async () => {
    profile = mkdtempSync(join(tmpdir(), 'eero-chromium-'));
    const [s, b] = await Promise.all([
      // Sample rate 1: the monitor compares every answer with the full model, so agreement has numbers to show.
      startService({ ...testConfig(), monitor: { ...testConfig().monitor, sampleRate: 1 } }, { defaultMetrics: false }),
      puppeteer.launch({
        executablePath: CHROMIUM,
        // Without the background-networking flags Chromium dials out, and this machine's closed network refuses it.
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          `--user-data-dir=${profile}`,
        ],
        defaultViewport: { width: 1200, height: 900, deviceScaleFactor: 1 },
      }),
    ]);
    service = s;
    browser = b;
    page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warn') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e: unknown) => problems.push(`page error: ${e instanceof Error ? e.message : String(e)}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await service?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const pngs = fixturePngs();
  const traffic = (n: number): Promise<unknown> =>
    pool(n, 4, async (i) => {
      const res = await postImage(service.url, pngs[i % pngs.length] as Buffer);
      expect(res.status).toBe(200);
    });
  const polls = async (): Promise<number> => Number(await page.$eval('body', (b: PageElement) => b.getAttribute('data-polls')));
  const nextPolls = async (n: number): Promise<void> => {
    const target = (await polls()) + n;
    await page.waitForFunction((t: number) => Number(document.body.getAttribute('data-polls')) >= t, { timeout: 5000 }, target);
  };
  const field = (name: string, attr = 'data-value'): Promise<string | null> =>
    page.$eval(
      `[data-model="${MODEL}"] [data-field="${name}"]`,
      (e: PageElement, a: string) => (a === 'text' ? e.textContent : e.getAttribute(a)),
      attr,
    );

  const metricsText = async (): Promise<string> => (await call<string>(`${service.url}/metrics`)).body;
  /**
   * /metrics once the monitor has compared every answer with the full model (sample rate 1): it works in
   * the background while the model is idle, so until then its numbers move between two reads.
   */
  async function monitorCaughtUp(): Promise<string> {
    for (const started = Date.now(); Date.now() - started < 10_000; await sleep(100)) {
      const text = await metricsText();
      const m = { model: MODEL };
      if (sumIn(text, 'eero_monitor_samples_total', m) === sumIn(text, 'eero_images_total', m)) return text;
    }
    throw new Error('the monitor did not sample every answer within 10 s');
  }

  test('serves one HTML document with a CSP that allows only its own script and style', async () => {
    const res = await call<string>(`${service.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'sha256-[^']+'; style-src 'sha256-[^']+'/);
    expect(res.body).toContain(`"name":"${MODEL}"`);
  });

  test('shows what /metrics says, and follows it live', async () => {
    await page.goto(`${service.url}/?poll=${POLL_MS}`, { waitUntil: 'load' });
    await nextPolls(1);
    expect(await page.$eval('#live', (e: PageElement) => e.getAttribute('data-state'))).toBe('live');
    expect(await field('images', 'text')).toBe('0');
    expect(await field('agreement', 'text')).toBe('no samples yet');

    // Traffic while the page polls: the next polls must show it.
    await traffic(20);
    const text = await monitorCaughtUp();
    await nextPolls(2); // the second one started after the traffic and the monitor's work ended
    const n = (name: string, labels: Record<string, string> = {}): number | undefined => sumIn(text, name, { model: MODEL, ...labels });
    const images = n('eero_images_total') as number;
    const macs = n('eero_macs_spent_total') as number;
    const full = n('eero_model_full_cost_macs') as number;
    expect(images).toBe(20);
    expect(Number(await field('images'))).toBe(images);
    expect(Number(await field('realised'))).toBeCloseTo(macs / images / full, 12);
    expect(await field('realised', 'text')).toBe(`${((100 * macs) / images / full).toFixed(1)}%`);
    expect(Number(await field('target'))).toBe(n('eero_budget_target_ratio'));
    expect(Number(await field('forced'))).toBe(n('eero_forced_exits_total'));
    expect(Number(await field('thresholds'))).toBe(n('eero_thresholds_version'));
    expect(Number(await field('rate'))).toBeGreaterThan(0);
    // Agreement over every answer (exit="all") and per exit, as the monitor's gauges say.
    expect(Number(await field('agreement'))).toBeCloseTo(n('eero_monitor_agreement_ratio', { exit: 'all' }) as number, 12);
    expect(await field('agreement-note', 'text')).toContain(`${images} samples`);
    const exits = await page.$$eval(`[data-model="${MODEL}"] tr[data-exit]`, (rows: PageElement[]) =>
      rows.map((r) =>
        ['count', 'agreement']
          .map((f) => r.querySelector(`[data-field="${f}"]`)?.getAttribute('data-value') ?? null)
          .concat(r.getAttribute('data-exit')),
      ),
    );
    expect(exits).toHaveLength(8);
    for (const [count, agreement, exit] of exits) {
      expect(Number(count)).toBe(n('eero_images_total', { exit: exit as string }) ?? 0);
      const ratio = n('eero_monitor_agreement_ratio', { exit: exit as string });
      if (ratio === undefined) expect(agreement).toBe('');
      else expect(Number(agreement)).toBeCloseTo(ratio, 12);
    }
    const p50 = Number(await page.$eval('#service [data-field="p50"]', (e: PageElement) => e.getAttribute('data-value')));
    const p99 = Number(await page.$eval('#service [data-field="p99"]', (e: PageElement) => e.getAttribute('data-value')));
    expect(p50).toBeGreaterThan(0);
    expect(p99).toBeGreaterThanOrEqual(p50);
  });

  /**
   * Waits for the page's classify call and its rendering; returns the answer as the page's "JSON answer"
   * shows it (reading the body over CDP fails: Chromium may evict it once the page has consumed it).
   */
  async function classifyThroughPage(act: () => Promise<unknown>): Promise<{ answer: ImageJson; response: HTTPResponse }> {
    const responded = page.waitForResponse((r) => r.url().includes('/v1/classify'), { timeout: 10_000 });
    await page.$eval('#result', (e: PageElement) => e.setAttribute('data-state', 'idle'));
    await act();
    const response = await responded;
    expect(response.status()).toBe(200);
    await page.waitForSelector('#result[data-state="done"]', { timeout: 5000 });
    const answer = JSON.parse((await page.$eval('#r-json', (e: PageElement) => e.textContent)) as string) as ImageJson;
    expect(answer.exits).toBe(8);
    return { answer, response };
  }

  async function expectAnswerShown(answer: ImageJson): Promise<void> {
    expect(await page.$eval('#r-label', (e: PageElement) => e.textContent)).toBe(answer.label);
    expect(await page.$eval('#r-exit', (e: PageElement) => e.textContent)).toBe(String(answer.exit));
    const rows = await page.$$eval('#trace tbody tr', (trs: PageElement[]) =>
      trs.map((r) => [r.getAttribute('data-exit'), r.querySelector('[data-field="score"]')?.textContent]),
    );
    const trace = answer.trace ?? [];
    expect(trace).toHaveLength(answer.exit);
    expect(rows).toEqual(trace.map((t) => [String(t.exit), t.score.toFixed(3)]));
    expect(await page.$eval('#trace tr.stop', (e: PageElement) => e.getAttribute('data-exit'))).toBe(String(answer.exit));
    expect(await page.$eval('#trace tr.stop .badge', (e: PageElement) => e.textContent)).toBe(answer.stoppedBy);
  }

  test('an image chosen or dropped shows its label, exit and a trace row per exit passed', async () => {
    const chosen = join(RESNET_BUNDLE, 'fixtures', '05.png');
    const input = await page.$('#c-file');
    const first = await classifyThroughPage(() => (input as NonNullable<typeof input>).uploadFile(chosen));
    expect(first.response.request().url()).toContain('trace=1');
    expect(first.response.request().headers()['content-type']).toBe('image/png');
    await expectAnswerShown(first.answer);

    // A synthetic drop: a File in a DataTransfer, as a drag from the desktop delivers it.
    const bytes = readFileSync(join(RESNET_BUNDLE, 'fixtures', '07.png')).toString('base64');
    const dropped = await classifyThroughPage(() =>
      page.evaluate((b64: string) => {
        const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const data = new DataTransfer();
        data.items.add(new File([raw], '07.png', { type: 'image/png' }));
        document.getElementById('drop')?.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
      }, bytes),
    );
    await expectAnswerShown(dropped.answer);
    expect(await page.$eval('#c-status', (e: PageElement) => e.textContent)).toContain('07.png');

    const shot = process.env.EERO_SCREENSHOT;
    if (shot) {
      // A few spaced rounds of traffic, so the budget's sparkline has a history to draw.
      for (let round = 0; round < 6; round++) {
        await traffic(6);
        await nextPolls(2);
      }
      const path = resolve(shot);
      mkdirSync(dirname(path), { recursive: true });
      await page.screenshot({ path, fullPage: true });
    }
    expect(problems).toEqual([]);
  });
});

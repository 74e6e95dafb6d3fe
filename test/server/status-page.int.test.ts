/**
 * The status page at GET /, the whole page in a real Chromium (Debian's /usr/bin/chromium driven by
 * puppeteer-core) against a real service: no console errors, no request beyond the service, the numbers of
 * /metrics after the page's next poll, and a dropped image's answer and trace. The script's pure parts are
 * tested without a browser in status-page/client/.
 * EERO_SCREENSHOT=docs/status-page.png also writes a screenshot of the page with the trace shown.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import puppeteer, { type Browser, type HTTPResponse, type Page } from 'puppeteer-core';
import { startService, type Service } from '../../src/server';
import { readStatusPageScript } from '../../src/server/status-page/client-asset';
import type { StatusPageBoot as PageBoot } from '../../src/server/status-page/client/boot';
import type { StatusPageBoot } from '../../src/server/status-page/document';
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
  innerHTML: string;
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

// Compile-time (tsc -p tsconfig.test.json, run by pretest): the boot data the server writes fits what the page's code reads.
type Fits<A extends B, B> = [A, B];
type _ServerBootFitsPage = Fits<StatusPageBoot, PageBoot>;

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
        timeout: 0,
      }),
    ]);
    service = s;
    browser = b;
    page = await browser.newPage();
    // No waits of its own (puppeteer's default is 30 s): a busy machine only makes the page slower; Jest's timeout ends a hang.
    page.setDefaultTimeout(0);
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warn') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e: unknown) => problems.push(`page error: ${e instanceof Error ? e.message : String(e)}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
    // The service's own origin, the empty favicon (data:) and the dropped image's preview (blob:): nothing else.
    page.on('request', (r) => {
      const url = r.url();
      if (!url.startsWith(`${service.url}/`) && !url.startsWith('data:') && !url.startsWith('blob:'))
        problems.push(`request beyond the service: ${url}`);
    });
  });

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
    await page.waitForFunction((t: number) => Number(document.body.getAttribute('data-polls')) >= t, { timeout: 0 }, target);
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
    // No deadline of its own: on a busy machine the monitor is only slower, and Jest's timeout ends a hang.
    for (;;) {
      const text = await metricsText();
      const m = { model: MODEL };
      if (sumIn(text, 'eero_monitor_samples_total', m) === sumIn(text, 'eero_images_total', m)) return text;
      await sleep(100);
    }
  }

  test('serves one HTML document with the built script inlined and a CSP that allows only it and its style', async () => {
    const res = await call<string>(`${service.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.body).toContain(`"name":"${MODEL}"`);
    const script = /<script>([\s\S]*)<\/script>/.exec(res.body)?.[1];
    expect(script).toBe(readStatusPageScript());
    const hash = createHash('sha256')
      .update(script as string, 'utf8')
      .digest('base64');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(new RegExp(`(^|; )script-src 'sha256-${hash.replace(/[+/]/g, '\\$&')}'; style-src 'sha256-[^']+'`));
    expect(csp.split('; ')).toEqual(
      expect.arrayContaining(["default-src 'none'", "connect-src 'self'", "require-trusted-types-for 'script'"]),
    );
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
    const responded = page.waitForResponse((r) => r.url().includes('/v1/classify'), { timeout: 0 });
    await page.$eval('#result', (e: PageElement) => e.setAttribute('data-state', 'idle'));
    await act();
    const response = await responded;
    expect(response.status()).toBe(200);
    await page.waitForSelector('#result[data-state="done"]', { timeout: 0 });
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

  test('Trusted Types refuse HTML strings on the page: it can render text only', async () => {
    const outcome = await page.evaluate(() => {
      try {
        document.body.innerHTML = '<img src="x">';
        return 'accepted';
      } catch (e) {
        return e instanceof TypeError ? 'refused' : String(e);
      }
    });
    expect(outcome).toBe('refused');
  });
});

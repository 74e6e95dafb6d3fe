/**
 * The fleet's budget, end to end: three replicas of the real service (child
 * processes of dist/src/cli/main.js, --budget 0.5), a real Prometheus scraping
 * all three with deploy/prometheus/rules.yml loaded, and a round-robin client
 * sending easy and hard images. The recording rule
 * eero:fleet_budget_realised_ratio must equal what the answers say was spent,
 * and stay within the budget; the ledgers' credit gauges must agree.
 *
 * Needs dist/ (`npm test` runs tsc first) and the prometheus binary.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import sharp from 'sharp';
import { CLI, FIXTURES, startServeProcess, type ServeProcess } from '../../benchmarks/replica-sizing';
import { hasBinary, startPrometheus, type PrometheusHandle } from '../support/prometheus';
import { RULES_FILE, readRules } from './deploy-files';

const BUDGET = 0.5;
const REPLICAS = 3;
/** Images sent in all; a multiple of REPLICAS so each replica gets the same count. */
const IMAGES = 288;
const FLEET_RULE = 'eero:fleet_budget_realised_ratio';
const MODEL = 'resnet18-fmnist';
/** Bounds on waits that only end a hang (three services and Prometheus share a machine that may be busy). */
const HANG_MS = 120_000;

const ready = hasBinary('prometheus') && existsSync(CLI);
const suite = ready ? describe : describe.skip;
const why = ready ? '' : ` [skipped: needs the prometheus binary and ${CLI} (npm run build)]`;

interface Answer {
  model: string;
  exit: number;
  forced: boolean;
  cost: { macs: number; fraction: number };
}

/** Deterministic pseudo-random bytes (an LCG): the same "noise" every run. */
function noise(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/**
 * The 16 fixtures (easy: most stop early) and three harder kinds made from
 * them, which keep the router going deeper so the ledger has work to do:
 * two garments of different classes averaged, heavy noise, and inverted
 * (dark on light, unlike anything in Fashion-MNIST).
 */
async function imageMix(): Promise<Buffer[]> {
  const files = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.png'))
    .sort();
  const raw = await Promise.all(
    files.map((f) =>
      sharp(readFileSync(join(FIXTURES, f)))
        .greyscale()
        .raw()
        .toBuffer(),
    ),
  );
  const png = (pixels: Uint8Array): Promise<Buffer> =>
    sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } })
      .png()
      .toBuffer();
  const made = raw.flatMap((a, i) => {
    const b = raw[(i + 5) % raw.length] as Buffer;
    const n = noise(i + 1, a.length);
    return [
      png(a.map((v, k) => (v + (b[k] as number)) >> 1)),
      png(a.map((v, k) => Math.max(0, Math.min(255, v + (n[k] as number) - 128)))),
      png(a.map((v) => 255 - v)),
    ];
  });
  return [...files.map((f) => readFileSync(join(FIXTURES, f))), ...(await Promise.all(made))];
}

/**
 * One request on a connection of its own (no keep-alive): on a busy machine a reused connection can race the
 * server closing it as idle, which says nothing about the fleet's budget.
 */
function httpCall(url: string, body?: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'image/png', 'content-length': body.length };
    const req = request(url, { method: body === undefined ? 'GET' : 'POST', agent: false, headers, timeout: HANG_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${HANG_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function classify(replica: ServeProcess, image: Buffer): Promise<Answer> {
  const res = await httpCall(`${replica.url}/v1/classify`, image).catch((e: unknown) => {
    throw new Error(`${replica.url}: ${(e as Error).message}; its log ends:\n${replica.stderrTail().slice(-2000)}`);
  });
  if (res.status !== 200) throw new Error(`${replica.url}: status ${res.status}: ${res.text}`);
  return JSON.parse(res.text) as Answer;
}

/** Image i goes to replica i mod REPLICAS (round robin), `concurrency` requests in flight. */
async function roundRobin(replicas: ServeProcess[], images: Buffer[], n: number, concurrency: number): Promise<Answer[]> {
  const answers = new Array<Answer>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        answers[i] = await classify(replicas[i % replicas.length] as ServeProcess, images[i % images.length] as Buffer);
      }
    }),
  );
  return answers;
}

suite(`the fleet's realised budget across ${REPLICAS} replicas, recorded by Prometheus${why}`, () => {
  const replicas: ServeProcess[] = [];
  let prometheus: PrometheusHandle | undefined;

  beforeAll(async () => {
    const started = await Promise.allSettled(
      Array.from({ length: REPLICAS }, () => startServeProcess(['--budget', String(BUDGET)], { timeoutMs: HANG_MS })),
    );
    for (const s of started) if (s.status === 'fulfilled') replicas.push(s.value);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    prometheus = await startPrometheus({
      targets: replicas.map((r) => `127.0.0.1:${r.port}`),
      scrapeIntervalSeconds: 1,
      rulesFile: RULES_FILE,
    });
  });

  // Runs on failure too (a throwing beforeAll or test); the guard kills the services if this process dies instead.
  afterAll(async () => {
    await Promise.allSettled([prometheus?.stop(), ...replicas.map((r) => r.stop(2000))]);
  });

  test('rules.yml records it from totals since start: sum of MACs / sum of images / the full cost, by model', () => {
    const rule = readRules()
      .groups.flatMap((g) => g.rules)
      .find((r) => r.record === FLEET_RULE);
    expect(rule?.expr.replace(/\s+/g, ' ').trim()).toBe(
      'sum by (model) (eero_macs_spent_total) / sum by (model) (eero_images_total) / max by (model) (eero_model_full_cost_macs)',
    );
  });

  const sent: Answer[] = [];
  let fullMacs = 0;

  /** Waits until Prometheus has every replica's totals for all answers so far and the rule has run on them. */
  async function recorded(): Promise<{ recorded: number; direct: number }> {
    const p = prometheus as PrometheusHandle;
    const direct = sent.reduce((s, a) => s + a.cost.macs, 0) / sent.length / fullMacs;
    await p.waitForValue('sum(eero_images_total)', (v) => v === sent.length, HANG_MS);
    const value = await p.waitForValue(FLEET_RULE, (v) => v !== undefined && Math.abs(v - direct) <= 1e-12 * direct, HANG_MS);
    return { recorded: value as number, direct };
  }

  test(`after ${IMAGES} easy and hard images: equals the answers' own cost.macs, and stays within the ${BUDGET} budget`, async () => {
    const p = prometheus as PrometheusHandle;
    const models = JSON.parse((await httpCall(`${replicas[0]?.url}/v1/models`)).text) as { models: { name: string; fullMacs: number }[] };
    fullMacs = models.models.find((m) => m.name === MODEL)?.fullMacs as number;
    await p.waitForScrapes(1);
    sent.push(...(await roundRobin(replicas, await imageMix(), IMAGES, 2 * REPLICAS)));
    const { recorded: ratio, direct } = await recorded();
    const series = await p.queryVector(FLEET_RULE);
    expect(series.map((s) => s.labels)).toEqual([{ __name__: FLEET_RULE, model: MODEL }]);
    /*
     * Each replica's ledger is strict (src/router/ledger.ts): after every settled image, its spend is at most
     * B x its images. Summed over the replicas, the fleet's spend is at most B x all images: the ratio <= B,
     * whatever the mix and however the client spreads it. 1e-9 covers floating-point rounding only.
     */
    expect(ratio).toBeLessThanOrEqual(BUDGET + 1e-9);
    const exits = sent.map((a) => a.exit);
    process.stdout.write(
      `fleet realised budget after ${sent.length} images: ${ratio.toFixed(6)} (client ${direct.toFixed(6)}); ` +
        `exits ${Math.min(...exits)}..${Math.max(...exits)}, ${sent.filter((a) => a.forced).length} forced by the ledgers\n`,
    );
    // The hard images went past the cheap exits and the ledgers had to stop some: the budget was a real constraint.
    expect(Math.max(...exits)).toBeGreaterThan(4);
    expect(sent.some((a) => a.forced)).toBe(true);
  });

  test("the replicas' ledger credit, summed, is the fleet's headroom: 0 <= credit <= B x images x full cost - MACs spent", async () => {
    const p = prometheus as PrometheusHandle;
    const spent = sent.reduce((s, a) => s + a.cost.macs, 0);
    const headroom = BUDGET * sent.length * fullMacs - spent;
    // Each replica's last scraped value: a scrape that a busy machine made miss its timeout leaves no gap here.
    const credits = await p.queryVector('last_over_time(eero_ledger_credit_macs[1h])');
    expect(credits).toHaveLength(REPLICAS);
    expect(credits.filter((c) => c.value < 0)).toEqual([]);
    // Equal unless the savings cap (maxCredit) took some away, which only lowers it.
    const credit = credits.reduce((s, c) => s + c.value, 0);
    expect(credit).toBeLessThanOrEqual(headroom + 1e-9 * BUDGET * sent.length * fullMacs);
    process.stdout.write(
      `fleet ledger credit ${(credit / fullMacs).toFixed(3)} full models, headroom ${(headroom / fullMacs).toFixed(3)}\n`,
    );
  });
});

/**
 * The fleet's budget, end to end: three replicas of the real service (child
 * processes of dist/src/cli/main.js, --budget 0.5), a real Prometheus scraping
 * all three with deploy/prometheus/rules.yml loaded, and a round-robin client
 * sending easy and hard images. The recording rule
 * eero:fleet_budget_realised_ratio must equal what the answers say was spent,
 * and stay within the budget.
 *
 * Needs dist/ (`npm test` runs tsc first) and the prometheus binary.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
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

async function classify(replica: ServeProcess, image: Buffer): Promise<Answer> {
  const res = await fetch(`${replica.url}/v1/classify`, {
    method: 'POST',
    body: image,
    headers: { 'content-type': 'image/png' },
    signal: AbortSignal.timeout(20_000),
  });
  if (res.status !== 200) throw new Error(`${replica.url}: status ${res.status}: ${await res.text()}`);
  return (await res.json()) as Answer;
}

/**
 * The ledger's balance gauge: eero_ledger_balance_macs (may go down to minus one full model: the overdraft), or
 * eero_ledger_credit_macs where the service exports that instead (never negative).
 */
const LEDGER_GAUGE = /^eero_ledger_(?:balance|credit)_macs$/;

/** The replica's own ledger balance (MACs) for its model, straight from its /metrics. */
async function ledgerBalance(replica: ServeProcess): Promise<number> {
  const text = await (await fetch(`${replica.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const line = text.split('\n').find((l) => LEDGER_GAUGE.test(l.split(/[{ ]/)[0] ?? ''));
  if (line === undefined) throw new Error(`${replica.url}/metrics has no ledger balance gauge`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
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
      Array.from({ length: REPLICAS }, () => startServeProcess(['--budget', String(BUDGET)], { timeoutMs: 30_000 })),
    );
    for (const s of started) if (s.status === 'fulfilled') replicas.push(s.value);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    prometheus = await startPrometheus({
      targets: replicas.map((r) => `127.0.0.1:${r.port}`),
      scrapeIntervalSeconds: 1,
      rulesFile: RULES_FILE,
    });
  }, 45_000);

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
    await p.waitForValue('sum(eero_images_total)', (v) => v === sent.length, 15_000);
    const value = await p.waitForValue(FLEET_RULE, (v) => v !== undefined && Math.abs(v - direct) <= 1e-12 * direct, 15_000);
    return { recorded: value as number, direct };
  }

  test(`mid-stream, after ${IMAGES} easy and hard images: equals the answers' own cost.macs, within the ledgers' bound`, async () => {
    const p = prometheus as PrometheusHandle;
    const models = (await (await fetch(`${replicas[0]?.url}/v1/models`)).json()) as { models: { name: string; fullMacs: number }[] };
    fullMacs = models.models.find((m) => m.name === MODEL)?.fullMacs as number;
    await p.waitForScrapes(1);
    sent.push(...(await roundRobin(replicas, await imageMix(), IMAGES, 2 * REPLICAS)));
    const { recorded: ratio, direct } = await recorded();
    const series = await p.queryVector(FLEET_RULE);
    expect(series.map((s) => s.labels)).toEqual([{ __name__: FLEET_RULE, model: MODEL }]);
    /*
     * Each replica's ledger bounds its n_r images' spend by n_r B + one full model (its overdraft, see
     * src/router/ledger.ts), so the fleet's N images spend at most N B + REPLICAS full models: a ratio of at
     * most B + REPLICAS / N. Hard images at the end of a stream can leave a replica in that overdraft.
     */
    expect(ratio).toBeLessThanOrEqual(BUDGET + REPLICAS / IMAGES + 1e-9);
    const exits = sent.map((a) => a.exit);
    process.stdout.write(
      `fleet realised budget after ${sent.length} images: ${ratio.toFixed(6)} (client ${direct.toFixed(6)}); ` +
        `exits ${Math.min(...exits)}..${Math.max(...exits)}, ${sent.filter((a) => a.forced).length} forced by the ledgers\n`,
    );
    // The hard images went past the cheap exits and the ledgers had to stop some: the budget was a real constraint.
    expect(Math.max(...exits)).toBeGreaterThan(4);
    expect(sent.some((a) => a.forced)).toBe(true);
  }, 40_000);

  test(`once easy images have repaid every overdraft (each ledger balance >= 0): within the ${BUDGET} budget`, async () => {
    const p = prometheus as PrometheusHandle;
    const easy = readdirSync(FIXTURES)
      .filter((f) => f.endsWith('.png'))
      .sort()
      .map((f) => readFileSync(join(FIXTURES, f)));
    // The fixtures cost under B on average (about 0.46), so each round repays part of the overdrafts; bounded.
    let rounds = 0;
    while ((await Promise.all(replicas.map(ledgerBalance))).some((b) => b < 0) && rounds++ < 20) {
      sent.push(...(await roundRobin(replicas, easy, easy.length * REPLICAS, 2 * REPLICAS)));
    }
    const { recorded: ratio, direct } = await recorded();
    // balance = n B - spent - (credit the cap removed), so a balance >= 0 on every replica means spent <= n B on each.
    const balances = await p.queryVector(`{__name__=~"${LEDGER_GAUGE.source.slice(1, -1)}"}`);
    expect(balances).toHaveLength(REPLICAS);
    expect(balances.filter((b) => b.value < 0)).toEqual([]);
    expect(ratio).toBeLessThanOrEqual(BUDGET + 1e-9);
    process.stdout.write(
      `fleet realised budget after ${sent.length} images (${rounds} rounds of easy ones): ${ratio.toFixed(6)} (client ${direct.toFixed(6)})\n`,
    );
  }, 40_000);
});

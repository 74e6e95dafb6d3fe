/**
 * Label-free recalibration on shifted traffic. Fashion-MNIST test images are
 * shifted with sharp (contrast, blur, noise); the first part of each shifted
 * stream is served as live traffic with the agreement monitor on, whose
 * reservoir (agreement with the final exit standing in for the label)
 * recalibrates the thresholds; a disjoint held-out part is measured with the
 * shipped thresholds and again with the recalibrated ones, ledger on (the
 * real batch runner: engine, router, ledger) and off (what the thresholds
 * alone spend), against the labels and the full model's answers.
 * Standalone, not (yet) part of run.ts; `runRecalibration` is its entry.
 * Usage: npm run build && node dist/benchmarks/recalibration.js [--quick] [--out DIR] [--bundle DIR ...] [--threads N]
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import * as path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { markdownTable } from '../src/cli/report/tables';
import type { ExitOutputs } from '../src/config';
import { createClassifier, loadModel, runDirect, type ImageResult, type LoadedModel } from '../src/pipeline';
import { ModelRouting } from '../src/pipeline/model-routing';
import type { AgreementMonitor } from '../src/pipeline/monitor';
import {
  BudgetLedger,
  calibrateEero,
  computeExitScores,
  evaluatePolicy,
  mulberry32,
  type ExitPolicy,
  type ScoredOutputs,
  type ThresholdPolicy,
} from '../src/router';
import { writeFmnistPngs } from './fmnist-pngs';
import { pct } from './support/format';
import { grayPng } from './support/png';
import { DATA_DIR, runMain, type BenchOptions } from './support/options';
import { provenance, shout, writeOutput, type SectionResult } from './support/report';

/** The operator's budget B, as a fraction of the full model. */
export const BUDGET = 0.5;
const BATCH = 64;
/** Images per live request (a client sending a folder in parts). */
const REQUEST = 256;
/** The monitor's share of answered images continued to the final exit (eero serve's default is 0.02). */
const SAMPLE_RATE = 0.2;
/** The 10,000 test images: indices below this are live traffic, the rest are held out. */
const SPLIT = 5000;

/** Fashion-MNIST images are SIDE x SIDE gray pixels. */
const SIDE = 28;
const AREA = SIDE * SIDE;

export interface Shift {
  name: string;
  /** How it is made, for the report. */
  what: string;
  /** Shifted copies of `count` SIDE x SIDE gray images laid end to end (seeds: one per image, for the noise). */
  apply(pixels: Uint8Array, count: number, seeds: readonly number[]): Promise<Uint8Array>;
}

/** A standard normal draw (Box-Muller) from a uniform stream. */
function gaussian(rand: () => number): number {
  const u = 1 - rand(); // (0, 1]
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Additive Gaussian noise of `sigma` grey levels, rounded and clipped to 0..255, from each image's own seeded stream. */
function addNoise(pixels: Uint8Array, count: number, seeds: readonly number[], sigma: number): Uint8Array {
  const out = new Uint8Array(pixels.length);
  for (let i = 0; i < count; i++) {
    const rand = mulberry32(seeds[i] as number);
    for (let j = i * AREA; j < (i + 1) * AREA; j++)
      out[j] = Math.max(0, Math.min(255, Math.round((pixels[j] as number) + sigma * gaussian(rand))));
  }
  return out;
}

/**
 * One sharp pipeline over every image at once: the images are tiles of one
 * gray mosaic, `gutter` black pixels apart, so a filter sees each image on
 * a black surround (as the preprocessor pads it) and never its neighbours.
 * One call instead of one per image: decoding and encoding 28x28 images
 * costs ~1.5 ms each on the 2-core machine, a 3,000 x 3,000 blur 0.1 s.
 */
async function throughSharp(pixels: Uint8Array, count: number, gutter: number, op: (s: Sharp) => Sharp): Promise<Uint8Array> {
  const cols = Math.max(1, Math.ceil(Math.sqrt(count)));
  const cell = SIDE + 2 * gutter;
  const width = cols * cell;
  const height = Math.ceil(count / cols) * cell;
  const mosaic = new Uint8Array(width * height);
  const at = (i: number, y: number): number => (Math.floor(i / cols) * cell + gutter + y) * width + (i % cols) * cell + gutter;
  for (let i = 0; i < count; i++)
    for (let y = 0; y < SIDE; y++) mosaic.set(pixels.subarray(i * AREA + y * SIDE, i * AREA + (y + 1) * SIDE), at(i, y));
  const { data, info } = await op(sharp(mosaic, { raw: { width, height, channels: 1 } }))
    .grayscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height || info.channels !== 1)
    throw new Error(`sharp changed the mosaic's shape: ${JSON.stringify(info)}`);
  const out = new Uint8Array(count * AREA);
  for (let i = 0; i < count; i++) for (let y = 0; y < SIDE; y++) out.set(data.subarray(at(i, y), at(i, y) + SIDE), i * AREA + y * SIDE);
  return out;
}

/** Each strength moves the score distribution visibly on both bundles (the shipped thresholds alone overspend B by 4-22 points). */
export const SHIFTS: Shift[] = [
  {
    name: 'contrast',
    what: 'sharp `.linear(0.8, 10)`: contrast ×0.8 and black level +10 grey levels',
    apply: (pixels, count) => throughSharp(pixels, count, 0, (s) => s.linear(0.8, 10)),
  },
  {
    name: 'blur',
    what: 'sharp `.blur(1.2)`: Gaussian blur, σ = 1.2 px (on a black surround)',
    apply: (pixels, count) => throughSharp(pixels, count, 8, (s) => s.blur(1.2)),
  },
  {
    name: 'noise',
    what: 'additive Gaussian noise, σ = 15 grey levels, rounded and clipped to 0-255, seeded per image (pixels decoded by sharp)',
    apply: (pixels, count, seeds) => Promise.resolve(addNoise(pixels, count, seeds, 15)),
  },
];

interface TestImage {
  /** Index in the Fashion-MNIST test split. */
  index: number;
  label: number;
}

interface Stream {
  name: string;
  images: TestImage[];
  /** images.length x SIDE x SIDE gray pixels. */
  pixels: Uint8Array;
}

/** One image of a stream as a PNG file's bytes (what a client sends). */
const pngOf = (s: Stream, i: number): Uint8Array => new Uint8Array(grayPng(s.pixels.subarray(i * AREA, (i + 1) * AREA), SIDE, SIDE));

async function mapLimit<T, R>(xs: readonly T[], limit: number, f: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(xs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, xs.length) }, async () => {
      while (next < xs.length) {
        const i = next++;
        out[i] = await f(xs[i] as T, i);
      }
    }),
  );
  return out;
}

/** The test PNGs, <dir>/<class>/<index>.png, in test-split order; written first if absent. */
async function testImages(dir: string): Promise<Array<TestImage & { file: string }>> {
  if (!existsSync(dir)) {
    process.stderr.write(`writing the Fashion-MNIST test PNGs under ${dir}\n`);
    await writeFmnistPngs(dir);
  }
  const all = readdirSync(dir)
    .filter((c) => /^\d+$/.test(c))
    .flatMap((c) =>
      readdirSync(path.join(dir, c))
        .filter((f) => f.endsWith('.png'))
        .map((f) => ({ index: Number.parseInt(f, 10), label: Number(c), file: path.join(dir, c, f) })),
    );
  return all.sort((a, b) => a.index - b.index);
}

/** Per image's answer: cost, forced, right, agreeing with the full model. */
interface Measured {
  cost: number;
  forced: number;
  accuracy: number;
  agreement: number;
  /** Share of the images leaving at each exit. */
  mix: number[];
}

function summarise(
  exitOf: ArrayLike<number>,
  predictions: ArrayLike<number>,
  scored: ScoredOutputs,
  costFractions: Float64Array,
  forced?: ArrayLike<boolean>,
): Measured {
  const n = scored.images;
  const full = scored.predictions[scored.exits - 1] as Int32Array;
  let cost = 0;
  let nForced = 0;
  let right = 0;
  let agree = 0;
  const mix = new Array<number>(scored.exits).fill(0);
  for (let i = 0; i < n; i++) {
    const l = exitOf[i] as number;
    mix[l] = (mix[l] as number) + 1 / n;
    cost += costFractions[l] as number;
    if (forced?.[i] === true) nForced++;
    if (predictions[i] === scored.labels[i]) right++;
    if (predictions[i] === full[i]) agree++;
  }
  return { cost: cost / n, forced: nForced / n, accuracy: right / n, agreement: agree / n, mix };
}

/** Every exit's logits for a tensor of images (the full model's answer is the last exit). */
async function allExits(model: LoadedModel, input: Float32Array, labels: Int32Array): Promise<ExitOutputs> {
  const n = labels.length;
  const k = model.labels.length;
  const m = model.costs.costs.length;
  const len = model.preprocessor.imageLength;
  const logits = Array.from({ length: m }, () => new Float32Array(n * k));
  for (let first = 0; first < n; first += BATCH) {
    const rows = Math.min(BATCH, n - first);
    await model.engine.run(input.subarray(first * len, (first + rows) * len), rows, (exit, z, ids) => {
      ids.forEach((r, j) => (logits[exit] as Float32Array).set(z.subarray(j * k, (j + 1) * k), (first + r) * k));
      return new Uint8Array(ids.length); // nobody leaves before the last exit
    });
  }
  return { images: n, exits: m, classes: k, labels, logits };
}

interface HeldOut {
  name: string;
  input: Float32Array;
  scored: ScoredOutputs;
  fullAccuracy: number;
}

interface Row {
  /** Ledger on, the real batch runner. */
  on: Measured;
  /** Ledger off: the thresholds alone (the router's decisions on the all-exit logits). */
  off: Measured;
  /** Images whose exit differs between the batch runner and the router's simulation of the same ledger (0 expected). */
  mismatches: number;
  version: number;
}

interface Live {
  shift: string;
  images: number;
  cost: number;
  forced: number;
  sampled: number;
  dropped: number;
  reservoir: number;
  /** The monitor's label-free estimate over every answer, with its Wilson 95% bounds. */
  agreement: { ratio: number; lower: number; upper: number };
  backgroundShare: number;
  seconds: number;
  outputs: ExitOutputs;
  version: number;
}

interface BundleReport {
  name: string;
  exits: number;
  heldOut: HeldOut[];
  live: Live[];
  before: Map<string, Row>;
  /** By shift recalibrated on, then by held-out stream. */
  after: Map<string, Map<string, Row>>;
  /** EERO calibrated with the held-out images' own labels, measured on them (in-sample reference). */
  labelled: Map<string, Measured>;
  seconds: number;
}

async function routingFor(
  model: LoadedModel,
  ledger: boolean,
  recalibrated?: ExitOutputs,
  shipped = model.routing.calibration,
): Promise<ModelRouting> {
  const routing = new ModelRouting({ calibration: shipped, costs: model.costs, budget: { fraction: BUDGET }, ledger, defaults: {} });
  if (recalibrated) await routing.recalibrate(recalibrated);
  return routing;
}

const thresholdsOf = (p: ExitPolicy): Float64Array => (p as ThresholdPolicy).thresholds;

/** The held-out images through the batch runner with a fresh ledger, and through the router alone. */
async function measure(model: LoadedModel, shipped: ExitOutputs, held: HeldOut, recalibrated?: ExitOutputs): Promise<Row> {
  const routing = await routingFor(model, true, recalibrated, shipped);
  const served: LoadedModel = { ...model, routing };
  const choice = routing.choose({});
  const n = held.scored.images;
  const len = model.preprocessor.imageLength;
  const results: ImageResult[] = [];
  for (let first = 0; first < n; first += BATCH) {
    const rows = Math.min(BATCH, n - first);
    // Keys = position in the stream, as the all-exit scores were computed: the same tie noise.
    results.push(...(await runDirect(served, held.input.subarray(first * len, (first + rows) * len), choice, first)));
  }
  const fractions = Float64Array.from(model.costs.costs, (c) => c / model.costs.full);
  const on = summarise(
    results.map((r) => r.exit - 1),
    results.map((r) => r.classIndex),
    held.scored,
    fractions,
    results.map((r) => r.stoppedBy === 'ledger'),
  );
  if (results.some((r) => r.thresholdsVersion !== choice.version)) throw new Error('an answer was routed by other thresholds than asked');
  const free = evaluatePolicy(choice.policy, held.scored, model.costs.costs);
  const off = summarise(free.exitOf, free.predictions, held.scored, fractions);
  // The same ledger, simulated by the router: the batch runner must give the same exits.
  const ledger = new BudgetLedger({ budget: routing.limit, costs: model.costs.costs, costUnit: model.costs.unitLabel });
  const sim = evaluatePolicy(choice.policy, held.scored, model.costs.costs, { ledger, batch: BATCH });
  const mismatches = results.filter((r, i) => r.exit - 1 !== sim.exitOf[i]).length;
  return { on, off, mismatches, version: choice.version };
}

/** The reservoir is complete once no sampled image waits for its background run. */
function backgroundDone(monitor: AgreementMonitor): boolean {
  return monitor.waiting === 0;
}

async function until(done: () => boolean, what: string, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what}: not done after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The live part of a shifted stream through a classifier with the monitor on; then recalibrate from its reservoir. */
async function serveLive(model: LoadedModel, stream: Stream, minSamples: number): Promise<Live> {
  const t0 = performance.now();
  const routing = await routingFor(model, true);
  const classifier = createClassifier(
    { ...model, routing },
    {
      batching: { maxBatch: BATCH, maxWaitMs: 0, maxQueue: 4 * REQUEST },
      limitInputPixels: 1e6,
      monitor: { sampleRate: SAMPLE_RATE, reservoir: 4096, minSamples, autoRecalibrate: false },
    },
  );
  const monitor = classifier.monitor as AgreementMonitor;
  let cost = 0;
  let forced = 0;
  const n = stream.images.length;
  for (let first = 0; first < n; first += REQUEST) {
    const pngs = Array.from({ length: Math.min(REQUEST, n - first) }, (_, j) => pngOf(stream, first + j));
    const answer = await classifier.classify(pngs, { routing: {} });
    for (const o of answer.outcomes) {
      if (!o.ok) throw o.error;
      cost += o.result.costFraction;
      if (o.result.forced) forced++;
    }
    // A pause between requests: the monitor runs only while the batcher is idle, and a request already admitted
    // (still decoding) counts as work, so back to back it would never run and would drop samples beyond 256.
    await until(() => backgroundDone(monitor), `${model.name} ${stream.name}: monitor background runs`);
  }
  const snap = monitor.snapshot();
  const all = snap.agreement.find((a) => a.exit === 'all');
  const sampled = snap.macs / model.costs.fullMacs;
  const { version } = await monitor.recalibrate();
  const outputs = monitor.outputs();
  await classifier.drain();
  return {
    shift: stream.name,
    images: n,
    cost: cost / n,
    forced: forced / n,
    sampled,
    dropped: snap.dropped,
    reservoir: snap.reservoir,
    agreement: { ratio: all?.ratio ?? NaN, lower: all?.lower ?? NaN, upper: all?.upper ?? NaN },
    backgroundShare: snap.macs / (snap.macs + cost * model.costs.fullMacs),
    seconds: (performance.now() - t0) / 1000,
    outputs,
    version,
  };
}

/** What the held-out images' own labels would give (EERO at B, calibrated and measured on the same images). */
function labelledReference(model: LoadedModel, held: HeldOut): Measured {
  const limit = BUDGET * model.costs.full;
  const policy = calibrateEero(held.scored, model.costs.costs, limit, { score: held.scored.scoring.score });
  const ev = evaluatePolicy(policy, held.scored, model.costs.costs);
  const fractions = Float64Array.from(model.costs.costs, (c) => c / model.costs.full);
  return summarise(ev.exitOf, ev.predictions, held.scored, fractions);
}

interface Data {
  live: Stream[];
  held: Stream[];
}

/** Each test PNG decoded by sharp to its gray pixels. */
async function decodeAll(files: readonly string[]): Promise<Uint8Array> {
  const pixels = new Uint8Array(files.length * AREA);
  await mapLimit(files, 8, async (file, i) => {
    const { data, info } = await sharp(readFileSync(file)).grayscale().raw().toBuffer({ resolveWithObject: true });
    if (info.width !== SIDE || info.height !== SIDE || info.channels !== 1) throw new Error(`${file}: not a ${SIDE}x${SIDE} gray image`);
    pixels.set(data, i * AREA);
  });
  return pixels;
}

async function makeStreams(quick: boolean): Promise<Data> {
  const images = await testImages(path.join(DATA_DIR, 'fmnist-test'));
  const size = quick ? 500 : SPLIT;
  const live = images.filter((im) => im.index < SPLIT).slice(0, size);
  const held = images.filter((im) => im.index >= SPLIT).slice(0, size);
  const [livePixels, heldPixels] = [await decodeAll(live.map((im) => im.file)), await decodeAll(held.map((im) => im.file))];
  const shifted = async (shift: Shift, xs: TestImage[], pixels: Uint8Array): Promise<Stream> => ({
    name: shift.name,
    images: xs,
    pixels: await shift.apply(
      pixels,
      xs.length,
      xs.map((im) => im.index + 1),
    ),
  });
  const liveStreams: Stream[] = [];
  const heldStreams: Stream[] = [{ name: 'clean', images: held, pixels: heldPixels }];
  for (const s of SHIFTS) {
    liveStreams.push(await shifted(s, live, livePixels));
    heldStreams.push(await shifted(s, held, heldPixels));
  }
  return { live: liveStreams, held: heldStreams };
}

/**
 * A stream as the bundle's input tensor, normalised straight from the pixels
 * (the manifest's pad, scale, mean and std; no resize: the bundle takes 28x28
 * gray), checked against the real preprocessor (the PNG decoded by sharp) on
 * the first images. Held-out images need no decoding at every measurement.
 */
async function tensorOf(model: LoadedModel, stream: Stream): Promise<Float32Array> {
  const spec = model.manifest.input;
  if (spec.channels !== 1 || spec.resize.width !== SIDE || spec.resize.height !== SIDE)
    throw new Error(`${model.name}: the bundle must take gray ${SIDE}x${SIDE} images`);
  const n = stream.images.length;
  const len = model.preprocessor.imageLength;
  const [top, , , left] = spec.pad;
  const mean = spec.mean[0] as number;
  const std = spec.std[0] as number;
  const input = new Float32Array(n * len).fill((spec.background[0] / spec.scale - mean) / std);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < SIDE; y++) {
      for (let x = 0; x < SIDE; x++)
        input[i * len + (y + top) * spec.width + x + left] = ((stream.pixels[i * AREA + y * SIDE + x] as number) / spec.scale - mean) / std;
    }
  }
  const check = Math.min(n, BATCH);
  const real = new Float32Array(check * len);
  await mapLimit(
    Array.from({ length: check }, (_, i) => i),
    8,
    (i) => model.preprocessor.preprocessInto(pngOf(stream, i), real, i * len, { limitInputPixels: 1e6 }),
  );
  const worst = real.reduce((w, v, j) => Math.max(w, Math.abs(v - (input[j] as number))), 0);
  if (worst > 1e-6) throw new Error(`${model.name} ${stream.name}: the normalised pixels differ from the preprocessor's by ${worst}`);
  return input;
}

async function runBundle(dir: string, data: Data, o: BenchOptions): Promise<BundleReport> {
  const t0 = performance.now();
  const log = (s: string): boolean => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0)} s] ${s}\n`);
  const model = await loadModel(dir, { budget: { fraction: BUDGET } }, { engine: { intraOpThreads: o.threads ?? 2 } });
  try {
    const shipped = model.routing.calibration;
    const heldOut: HeldOut[] = [];
    for (const s of data.held) {
      const input = await tensorOf(model, s);
      const labels = Int32Array.from(s.images, (im) => im.label);
      const scored = computeExitScores(await allExits(model, input, labels), model.routing.choose({}).policy.scoring);
      const full = scored.predictions[scored.exits - 1] as Int32Array;
      const fullAccuracy = full.reduce((a, p, i) => a + Number(p === labels[i]), 0) / labels.length;
      heldOut.push({ name: s.name, input, scored, fullAccuracy });
      log(`${model.name}: held-out ${s.name} ready (full model ${pct(fullAccuracy, 1)}%)`);
    }
    const before = new Map<string, Row>();
    for (const h of heldOut) before.set(h.name, await measure(model, shipped, h));
    log(`${model.name}: shipped thresholds measured`);
    const live: Live[] = [];
    const after = new Map<string, Map<string, Row>>();
    const minSamples = o.quick ? 50 : 500;
    for (const s of data.live) {
      const l = await serveLive(model, s, minSamples);
      live.push(l);
      // The measuring routings recalibrate from the same reservoir: they must serve the thresholds the monitor swapped in.
      const check = await routingFor(model, false, l.outputs, shipped);
      const recal = thresholdsOf(check.choose({}).policy);
      const swapped = thresholdsOf((await routingFor(model, true, l.outputs, shipped)).choose({}).policy);
      if (check.version !== l.version || !recal.every((t, i) => t === swapped[i]))
        throw new Error('recalibrated thresholds differ between routings');
      const rows = new Map<string, Row>();
      for (const h of heldOut.filter((x) => x.name === s.name || x.name === 'clean'))
        rows.set(h.name, await measure(model, shipped, h, l.outputs));
      after.set(s.name, rows);
      log(`${model.name}: ${s.name}: live traffic, recalibration (${l.reservoir} monitored images) and measurement done`);
    }
    const labelled = new Map(heldOut.map((h) => [h.name, labelledReference(model, h)]));
    return {
      name: model.name,
      exits: model.costs.costs.length,
      heldOut,
      live,
      before,
      after,
      labelled,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await model.dispose();
  }
}

const p1 = (v: number): string => `${pct(v, 1)}%`;
const pts = (v: number): string => `${v >= 0 ? '+' : ''}${(100 * v).toFixed(1)}`;

/** Before -> after is judged by these (stated in the report). */
const COST_TOLERANCE = 0.02;
const FORCED_FEW = 0.02;

interface Verdict {
  bundle: string;
  shift: string;
  holds: boolean;
  cells: string[];
  /** Plain text, for warnings and headlines. */
  text: string;
}

const arrow = (b: number, a: number): string => `${p1(b)} → ${p1(a)}`;
const delta = (b: number, a: number): string => `${arrow(b, a)} (${pts(a - b)} pt)`;

function judge(bundle: string, held: HeldOut, b: Row, a: Row, labelled: Measured): Verdict {
  const offBefore = Math.abs(b.off.cost - BUDGET) > COST_TOLERANCE;
  const withinB = a.on.cost <= BUDGET + 1e-9 && a.off.cost <= BUDGET + 1e-9 && a.on.forced <= FORCED_FEW;
  const nearB = Math.abs(a.off.cost - BUDGET) <= COST_TOLERANCE;
  const accuracy = a.on.accuracy >= b.on.accuracy;
  const agreement = a.on.agreement >= b.on.agreement;
  const holds = offBefore && withinB && nearB && accuracy && agreement;
  const why: string[] = [];
  if (!offBefore) why.push(`the shipped thresholds were not off (they spend ${p1(b.off.cost)} alone)`);
  if (!withinB) why.push(`after, the ledger still forces ${p1(a.on.forced)} of exits`);
  if (!nearB)
    why.push(
      `after, the thresholds spend ${p1(a.off.cost)}, not B ± ${(100 * COST_TOLERANCE).toFixed(0)} pt (labelled reference: ${p1(labelled.cost)})`,
    );
  if (!accuracy)
    why.push(`accuracy fell ${(100 * (b.on.accuracy - a.on.accuracy)).toFixed(1)} pt (labelled reference: ${p1(labelled.accuracy)})`);
  if (!agreement) why.push(`agreement fell ${(100 * (b.on.agreement - a.on.agreement)).toFixed(1)} pt`);
  const cells = [
    bundle,
    held.name,
    p1(held.fullAccuracy),
    arrow(b.off.cost, a.off.cost),
    arrow(b.on.forced, a.on.forced),
    delta(b.on.accuracy, a.on.accuracy),
    delta(b.on.agreement, a.on.agreement),
    offBefore ? 'yes' : 'no',
    withinB ? 'yes' : 'no',
    nearB ? 'yes' : `no (${pts(a.off.cost - BUDGET)} pt; labelled reference ${pts(labelled.cost - BUDGET)} pt)`,
    accuracy && agreement ? 'yes' : 'no',
    holds ? '**holds**' : '**does not hold**',
  ];
  const text =
    `${bundle} ${held.name}: claim ${holds ? 'holds' : 'does not hold'}: cost of the thresholds alone ${arrow(b.off.cost, a.off.cost)}, ` +
    `forced exits ${arrow(b.on.forced, a.on.forced)}, accuracy ${delta(b.on.accuracy, a.on.accuracy)}, agreement ${delta(b.on.agreement, a.on.agreement)}` +
    `${why.length ? `: ${why.join('; ')}` : ''}`;
  return { bundle, shift: held.name, holds, cells, text };
}

const SUMMARY_HEADER = [
  'bundle',
  'shift',
  'full model accuracy',
  'cost of the thresholds alone, shipped → recalibrated',
  'exits forced by the ledger',
  'accuracy (ledger on)',
  'agreement with the full model (ledger on)',
  'shipped thresholds off',
  'after: within B, ≤ 2% forced',
  'after: B ± 2 pt',
  'after: accuracy and agreement no lower',
  'claim',
];

/** What recalibrating on each shift does to clean traffic, in one line per bundle. */
function cleanLine(r: BundleReport): string {
  const b = r.before.get('clean') as Row;
  const parts = r.live.map((l) => {
    const a = r.after.get(l.shift)?.get('clean') as Row;
    return `${l.shift}: cost ${p1(a.on.cost)}, accuracy ${pts(a.on.accuracy - b.on.accuracy)} pt, agreement ${pts(a.on.agreement - b.on.agreement)} pt`;
  });
  return `- **${r.name}** (shipped: cost ${p1(b.on.cost)}, accuracy ${p1(b.on.accuracy)}, agreement ${p1(b.on.agreement)}); recalibrated on ${parts.join('; ')}.`;
}

const HEADER = [
  'thresholds',
  'cost, ledger on',
  'forced by the ledger',
  'accuracy',
  'agreement with full model',
  'exit mix, % per exit (ledger on)',
  'cost, thresholds alone',
  'accuracy, thresholds alone',
  'agreement, thresholds alone',
];

const mixOf = (m: Measured): string => m.mix.map((x) => (100 * x).toFixed(0)).join('/');

function cells(label: string, r: Row | Measured): string[] {
  const on = 'on' in r ? r.on : undefined;
  const off = 'on' in r ? r.off : r;
  const dash = '-';
  return [
    label,
    on ? p1(on.cost) : dash,
    on ? p1(on.forced) : dash,
    on ? p1(on.accuracy) : dash,
    on ? p1(on.agreement) : dash,
    on ? mixOf(on) : `${mixOf(off)} (no ledger)`,
    p1(off.cost),
    p1(off.accuracy),
    p1(off.agreement),
  ];
}

const REFERENCE = 'reference: EERO calibrated with these images’ labels, measured in-sample';

function bundleSection(r: BundleReport): { text: string; verdicts: Verdict[]; mismatches: number } {
  const parts: string[] = [`## ${r.name} (${r.exits} exits), B = ${p1(BUDGET)}`, ''];
  const verdicts: Verdict[] = [];
  let mismatches = 0;
  const count = (row: Row): Row => {
    mismatches += row.mismatches;
    return row;
  };
  for (const h of r.heldOut.filter((x) => x.name !== 'clean')) {
    const b = count(r.before.get(h.name) as Row);
    const a = count(r.after.get(h.name)?.get(h.name) as Row);
    const live = r.live.find((l) => l.shift === h.name) as Live;
    const labelled = r.labelled.get(h.name) as Measured;
    parts.push(
      `### ${h.name}: ${h.scored.images.toLocaleString('en-US')} held-out images (full model accuracy ${p1(h.fullAccuracy)})`,
      '',
      markdownTable(HEADER, [
        cells('shipped (v1)', b),
        cells(`recalibrated (v${a.version}) from ${live.reservoir.toLocaleString('en-US')} monitored images, no labels`, a),
        cells(REFERENCE, labelled),
      ]),
    );
    verdicts.push(judge(r.name, h, b, a, labelled));
  }
  const clean = r.heldOut.find((x) => x.name === 'clean') as HeldOut;
  parts.push(
    `### clean: ${clean.scored.images.toLocaleString('en-US')} held-out unshifted images (full model accuracy ${p1(clean.fullAccuracy)})`,
    '',
    markdownTable(HEADER, [
      cells('shipped (v1)', count(r.before.get('clean') as Row)),
      ...r.live.map((l) => cells(`recalibrated on ${l.shift} traffic (v${l.version})`, count(r.after.get(l.shift)?.get('clean') as Row))),
      cells(REFERENCE, r.labelled.get('clean') as Measured),
    ]),
  );
  parts.push(
    '### live traffic (shipped thresholds, ledger on, monitor on)',
    '',
    markdownTable(
      [
        'shift',
        'images',
        'realised cost',
        'forced by the ledger',
        `monitored (sampleRate ${SAMPLE_RATE})`,
        'dropped',
        'in the reservoir',
        "monitor's agreement estimate, all answers [Wilson 95%]",
        'measured on the held-out part, shipped',
        'background MACs share',
        'seconds',
      ],
      r.live.map((l) => {
        const held = r.before.get(l.shift) as Row;
        return [
          l.shift,
          l.images,
          p1(l.cost),
          p1(l.forced),
          l.sampled,
          l.dropped,
          l.reservoir,
          `${p1(l.agreement.ratio)} [${p1(l.agreement.lower)}, ${p1(l.agreement.upper)}]`,
          p1(held.on.agreement),
          p1(l.backgroundShare),
          l.seconds.toFixed(1),
        ];
      }),
    ),
  );
  return { text: parts.join('\n'), verdicts, mismatches };
}

export interface RecalibrationResult extends SectionResult {
  bundles: BundleReport[];
}

export async function runRecalibration(o: BenchOptions): Promise<RecalibrationResult> {
  const t0 = performance.now();
  const data = await makeStreams(o.quick);
  process.stderr.write(`streams made in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  const reports: BundleReport[] = [];
  for (const dir of o.bundles) reports.push(await runBundle(dir, data, o));
  const seconds = (performance.now() - t0) / 1000;
  const sections = reports.map(bundleSection);
  const verdicts = sections.flatMap((s) => s.verdicts);
  const mismatches = sections.reduce((a, s) => a + s.mismatches, 0);
  const warnings = [
    ...verdicts.filter((v) => !v.holds).map((v) => v.text),
    ...(mismatches > 0
      ? [`${mismatches} images left the batch runner at another exit than the router's simulation of the same ledger`]
      : []),
  ];
  for (const w of warnings) shout(w);
  const live = data.live[0]?.images.length ?? 0;
  const held = data.held[0]?.images.length ?? 0;
  const cpu = cpus();
  const text = [
    '# Label-free recalibration on shifted traffic',
    '',
    ...provenance(o.quick, [
      `Command: \`npm run build && node dist/benchmarks/recalibration.js${o.quick ? ' --quick' : ''}\`. Machine: ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ` +
        `shared (load average ${loadavg()
          .map((x) => x.toFixed(1))
          .join(
            ' / ',
          )} at the end); onnxruntime intra-op threads ${o.threads ?? 2}; total ${seconds.toFixed(0)} s (${reports.map((r) => `${r.name} ${r.seconds.toFixed(0)} s`).join(', ')}).`,
    ]),
    '**Streams.** The Fashion-MNIST test PNGs (`benchmarks/data/fmnist-test`, labels from the folder), in test-split order: ' +
      `images ${live === SPLIT ? `0-${SPLIT - 1}` : `the first ${live} of 0-${SPLIT - 1}`} are live traffic, images ${held === SPLIT ? `${SPLIT}-9999` : `the first ${held} of ${SPLIT}-9999`} are held out. Shifts, made with sharp:`,
    '',
    ...SHIFTS.map((s) => `- **${s.name}**: ${s.what}.`),
    '',
    `**Live traffic.** Each shifted live part goes through \`createClassifier\` (batch ${BATCH}, requests of ${REQUEST} images, B = ${p1(BUDGET)}, ledger on, ` +
      `the shipped thresholds) with the agreement monitor at sampleRate ${SAMPLE_RATE} (reservoir 4096, so it keeps every monitored image); the monitor continues ` +
      `the sampled answers to the final exit in the background. After the part, \`monitor.recalibrate()\` (no labels: the final exit's answer is the label) swaps ` +
      'in thresholds version 2. Each shift starts again from the shipped thresholds. After each request the benchmark waits until no sampled image is ' +
      'waiting for the monitor (`monitor.waiting`), so the reservoir holds exactly the sampled share of the whole part: the monitor runs only while the ' +
      'engine is idle, and requests sent back to back leave it little idle time (it then keeps a uniform sample of what it was offered).',
    '',
    '**Measurements** on the held-out part of the same shift and on the held-out clean images: **ledger on**: the real batch runner (`runDirect`: engine, ' +
      `router and a fresh ledger at B per measurement, batches of ${BATCH}); realised cost as a share of the full model's MACs, share of exits forced by the ` +
      "ledger, accuracy against the labels, agreement with the full model's answer (the last exit, run on every held-out image, tie-broken as the router scores it). " +
      "**Thresholds alone**: the same thresholds with the ledger off (the router's decisions on the all-exit logits, which the one-graph engine reproduces), i.e. " +
      'what they would spend unguarded. The recalibrated thresholds are the ones the monitor swapped in (checked equal). A fresh `ModelRouting` per measurement ' +
      "keeps one stream's ledger credit out of the next. The router's simulation of the same ledger (`evaluatePolicy` with a `BudgetLedger`) is checked " +
      `against the batch runner's exits: ${sections.reduce((a, s) => a + s.mismatches, 0)} images differ in all.`,
    '',
    `**The claim checked**, per shift: before recalibration the shipped thresholds are off (alone they spend more than B + ${(100 * COST_TOLERANCE).toFixed(0)} pt, ` +
      `or less than B - ${(100 * COST_TOLERANCE).toFixed(0)} pt), so the ledger forces exits or budget goes unspent; after it, the thresholds alone spend ` +
      `B ± ${(100 * COST_TOLERANCE).toFixed(0)} pt and never above B, the ledger forces at most ${p1(FORCED_FEW)} of exits, and accuracy and agreement (ledger on) ` +
      "are no lower than before. The reference rows (EERO calibrated with the held-out images' own labels and measured on the same images) show what a " +
      'labelled, in-distribution calibration reaches at B; they are optimistic (in-sample).',
    '',
    '## Summary',
    '',
    markdownTable(
      SUMMARY_HEADER,
      verdicts.map((v) => v.cells),
    ),
    '**Clean traffic after recalibrating on shifted traffic** (held-out unshifted images, ledger on; differences against the shipped thresholds):',
    '',
    ...reports.map(cleanLine),
    '',
    '**How to read it.** Where the shipped thresholds let almost no image out early (shifted scores are lower), every row of a batch runs on until the ' +
      "batch's ledger pool is spent and the rest are stopped at that exit: in effect one fixed exit near B (see the exit mix), which is neither EERO's choice nor " +
      'bad per se. EERO bounds the expected cost by Σ ε_l cost[l] ≤ B, but an image leaves at the first exit it passes, so where the exits agree less with ' +
      'each other (shifted images) more images leave early than ε plans and the thresholds spend less than B; the finite-sample correction cum[l] / √N ' +
      '(N = the reservoir) adds to it. The labelled reference shows how much of the gap is EERO itself rather than the missing labels.',
    '',
    ...sections.map((s) => s.text),
    '',
  ].join('\n');
  const file = writeOutput(o.outDir, 'recalibration.md', text);
  process.stdout.write(text);
  const headlines = verdicts.map((v) => v.text);
  return { section: 'recalibration', file, extraFiles: [], headlines, warnings, bundles: reports };
}

runMain(module, runRecalibration);

/**
 * The learned score inside early-exit.onnx, on the whole calibration split of
 * both shipped bundles (5,000 Fashion-MNIST training images, as the toolkit
 * splits them), with real onnxruntime sessions: the graph's scores equal the
 * router's on the graph's own logits to the last bits, and its exits equal the
 * router's (evaluatePolicy with the learned policy) at several budgets.
 */
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { fmnistTensor } from '../../benchmarks/support/fmnist-tensor';
import { type Bundle, type ExitOutputs, loadBundle, readBundleOutputs } from '../../src/config';
import { type EarlyExitGraph, earlyExitGraphSpec, openEarlyExitGraph } from '../../src/engine/early-exit-graph';
import { learnedGraphWeights } from '../../src/pipeline/graph-can-route';
import { evaluatePolicy } from '../../src/router/evaluate';
import { calibrateLearnedPrepared, prepareLearned, type LearnedPolicy } from '../../src/router/learned/learned-policy';
import { validateLearnedParams, type LearnedParams } from '../../src/router/learned/params';
import { computeStatsTable, learnedScores } from '../../src/router/learned/stats-table';
import { rowStream } from '../../src/router/prng';
import { resolveScoring, TIE_NOISE } from '../../src/router/scores';
import { CONVNEXT_BUNDLE, RESNET_BUNDLE } from '../support/bundles';

const SESSION_OPTIONS = { intraOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' } as const;
const LEARNED = 3;
/** Rows per graph call. */
const CHUNK = 250;
const BUDGETS = [0.15, 0.25, 0.35];

describe.each([
  ['resnet18-fmnist', RESNET_BUNDLE],
  ['convnext-fmnist', CONVNEXT_BUNDLE],
])('%s: the learned score in early-exit.onnx on the whole calibration split', (name, dir) => {
  let bundle: Bundle;
  let graph: EarlyExitGraph;
  let params: LearnedParams;
  let weights: Float64Array;
  let input: Float32Array;
  let n: number;
  let m: number;
  let k: number;
  let costs: number[];
  /** The graph's own exit logits and learned scores, every row through every exit. */
  let outputs: ExitOutputs;
  let graphScores: Float64Array[];

  /** Every row of the split through the graph, CHUNK rows per call; row i's noise key is i, as the router's. */
  async function runSplit(thresholdOf: (l: number) => number, detail: boolean) {
    const exits = new Int32Array(n);
    const scores = new Float64Array(n);
    const reached = Array.from({ length: m }, () => ({ logits: new Float32Array(n * k), scores: new Float64Array(n) }));
    const size = input.length / n;
    for (let start = 0; start < n; start += CHUNK) {
      const b = Math.min(CHUNK, n - start);
      const noise = new Float64Array(b * m * k);
      for (let r = 0; r < b; r++) {
        for (let l = 0; l < m; l++) {
          const next = rowStream(0, start + r, l);
          for (let c = 0; c < k; c++) noise[(r * m + l) * k + c] = TIE_NOISE * next();
        }
      }
      const thresholds = Float64Array.from({ length: b * m }, (_, i) => thresholdOf(i % m));
      const run = await graph.run(input.subarray(start * size, (start + b) * size), b, thresholds, 1, noise, LEARNED, {
        detail,
        scores: true,
        learnedWeights: weights,
      });
      exits.set(run.exits, start);
      scores.set(run.scores as Float64Array, start);
      run.reached.forEach((at, l) => {
        at.rows.forEach((row, i) => {
          const dst = reached[l] as { logits: Float32Array; scores: Float64Array };
          dst.scores[start + row] = at.scores[i] as number;
          dst.logits.set(at.logits.subarray(i * k, (i + 1) * k), (start + row) * k);
        });
      });
    }
    return { exits, scores, reached };
  }

  beforeAll(async () => {
    bundle = await loadBundle(dir);
    const spec = earlyExitGraphSpec(bundle.manifest);
    graph = await openEarlyExitGraph(ort, join(dir, spec.file), spec, SESSION_OPTIONS);
    m = spec.exits;
    k = spec.classes;
    costs = bundle.manifest.exits.map((e) => e.macs);
    const file = bundle.manifest.learnedScore?.file as string;
    params = validateLearnedParams(JSON.parse(await readFile(join(dir, file), 'utf8')), m, k);
    weights = learnedGraphWeights(params, spec.learnedFeatures) as Float64Array;
    const split = fmnistTensor(bundle.manifest.input, 5000, 'calibration');
    input = split.input;
    n = split.images;
    const all = await runSplit(() => Infinity, true);
    outputs = { images: n, exits: m, classes: k, labels: Int32Array.from(split.labels), logits: all.reached.map((r) => r.logits) };
    graphScores = all.reached.map((r) => r.scores);
  }, 600_000);
  afterAll(async () => graph?.release());

  test("the split is the bundle's calibration split: the graph's logits are its calibration outputs' (stored as float16)", async () => {
    const stored = await readBundleOutputs(bundle, 'calibration');
    expect(stored.images).toBe(n);
    expect(Array.from(stored.labels)).toEqual(Array.from(outputs.labels));
    let worst = 0;
    for (let l = 0; l < m; l++) {
      const a = stored.logits[l] as Float32Array;
      const b = outputs.logits[l] as Float32Array;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
    }
    expect(worst).toBeLessThan(0.02);
  });

  test("the graph's learned score at every exit of every row is the router's on the same logits, to 1e-9", () => {
    expect(weights).toBeDefined();
    const js = learnedScores(computeStatsTable(outputs, resolveScoring({})), params);
    let equal = 0;
    let worst = 0;
    for (let l = 0; l < m; l++) {
      for (let i = 0; i < n; i++) {
        const a = (js[l] as Float64Array)[i] as number;
        const g = (graphScores[l] as Float64Array)[i] as number;
        if (a === g) equal++;
        else worst = Math.max(worst, Math.abs(a - g) / Math.max(1, Math.abs(a)));
      }
    }
    console.info(`${name}: ${equal} of ${n * m} learned scores bit-equal to the router's; largest difference ${worst.toExponential(1)}`);
    expect((graphScores[m - 1] as Float64Array).every((s) => s === Infinity)).toBe(true);
    // onnxruntime's exp and log may differ from V8's in the last bit; slog's slope is up to 1e6 (at a
    // margin of 0), so an ulp of a probability may move a feature by ~1e-10.
    expect(worst).toBeLessThan(1e-9);
  });

  test.each([
    ["its own logits (thresholds halfway between two of the graph's scores)", true],
    ["the bundle's calibration outputs (as the service calibrates)", false],
  ])(
    'exits equal evaluatePolicy with the learned policy calibrated on %s, at budgets 0.15, 0.25 and 0.35',
    async (_what, own) => {
      const data = own ? outputs : await readBundleOutputs(bundle, 'calibration');
      const prep = prepareLearned(data, { fitted: params });
      let learnedBudgets = 0;
      for (const fraction of BUDGETS) {
        const policy: LearnedPolicy = calibrateLearnedPrepared(prep, costs, fraction * (costs[m - 1] as number));
        if (policy.which !== 'learned') continue;
        learnedBudgets++;
        const want = evaluatePolicy(policy, outputs, costs);
        const got = await runSplit((l) => policy.thresholds[l] as number, false);
        const differ = want.exitOf.filter((e, i) => e !== got.exits[i]).length;
        expect([fraction, differ]).toEqual([fraction, 0]);
        // The graph reports each row's score where it left (left_scores): what tells confidence from a forced exit.
        console.info(
          `${name} at ${fraction}: ${n - differ} of ${n} rows leave where evaluatePolicy says; exits used ${[...new Set(got.exits)].sort((a, b) => a - b).join(',')}`,
        );
        const below = Array.from(got.exits).filter((e, i) => {
          const s = got.scores[i] as number;
          return e === m - 1 ? s !== Infinity : !(s >= (policy.thresholds[e] as number));
        });
        expect(below).toEqual([]);
        expect(new Set(got.exits).size).toBeGreaterThan(2);
      }
      expect(learnedBudgets).toBeGreaterThanOrEqual(3);
    },
    600_000,
  );
});

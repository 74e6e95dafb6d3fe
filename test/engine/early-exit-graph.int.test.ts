/**
 * early-exit.onnx of the shipped bundles, run with real onnxruntime sessions
 * and checked against the stage graphs run one after the other, and against
 * the service's router computing scores and decisions from those logits.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { type Bundle, loadBundle, readBundleOutputs } from '../../src/config';
import {
  type EarlyExitGraph,
  type EarlyExitRun,
  type ScoreKindCode,
  earlyExitGraphSpec,
  openEarlyExitGraph,
} from '../../src/engine/early-exit-graph';
import { EeroError } from '../../src/errors';
import { rowStream } from '../../src/router/prng';
import { type ScoreKind, type ScoringOptions, scoreRow, softmaxRow, TIE_NOISE } from '../../src/router/scores';
import { ThresholdCache } from '../../src/router/threshold-cache';
import { CONVNEXT_BUNDLE, RESNET_BUNDLE } from '../support/bundles';
import { loadFixtures, maxAbsDiff, referenceLogits } from './shipped-bundle';

const SESSION_OPTIONS = { intraOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' } as const;
const KIND_CODES: Partial<Record<ScoreKind, ScoreKindCode>> = { margin: 0, maxprob: 1, entropy: 2 };

/** The tie noise scoreRow adds for row `key` at exit `l`: TIE_NOISE x the row's stream, class by class. */
function tieNoise(batch: number, exits: number, classes: number, seed: number): Float64Array {
  const noise = new Float64Array(batch * exits * classes);
  for (let n = 0; n < batch; n++) {
    for (let l = 0; l < exits; l++) {
      const next = rowStream(seed, n, l);
      for (let c = 0; c < classes; c++) noise[(n * exits + l) * classes + c] = TIE_NOISE * next();
    }
  }
  return noise;
}

/** thresholds[n, l] = at(n, l). */
function thresholdsOf(batch: number, exits: number, at: (n: number, l: number) => number): Float64Array {
  return Float64Array.from({ length: batch * exits }, (_, i) => at(Math.floor(i / exits), i % exits));
}

describe.each([
  ['resnet18-fmnist', RESNET_BUNDLE],
  ['convnext-fmnist', CONVNEXT_BUNDLE],
])('%s early-exit.onnx', (name, dir) => {
  let bundle: Bundle;
  let graph: EarlyExitGraph;
  let input: Float32Array;
  let batch: number;
  /** Each exit's logits from the stage graphs run in sequence, batch x K. */
  let chain: Float32Array[];
  let m: number;
  let k: number;

  beforeAll(async () => {
    bundle = await loadBundle(dir);
    const spec = earlyExitGraphSpec(bundle.manifest);
    graph = await openEarlyExitGraph(ort, join(dir, spec.file), spec, SESSION_OPTIONS);
    const fixtures = await loadFixtures(bundle);
    input = fixtures.input;
    batch = fixtures.files.length;
    chain = await referenceLogits(bundle, input, batch);
    m = spec.exits;
    k = spec.classes;
  });
  afterAll(async () => graph?.release());

  const run = (thresholds: Float64Array, kind: ScoreKindCode = 0, n = batch, x = input): Promise<EarlyExitRun> =>
    graph.run(x, n, thresholds, 1, tieNoise(n, m, k, 0), kind);

  function expectLogitsAt(result: EarlyExitRun, exitOf: (row: number) => number): void {
    for (let row = 0; row < result.exits.length; row++) {
      const l = exitOf(row);
      expect(result.exits[row]).toBe(l);
      const got = result.logits.subarray(row * k, (row + 1) * k);
      expect(maxAbsDiff(got, (chain[l] as Float32Array).subarray(row * k, (row + 1) * k))).toBeLessThan(1e-4);
    }
  }

  test('with thresholds +inf every row runs every exit and leaves at the last with the stage chain logits', async () => {
    const result = await run(thresholdsOf(batch, m, () => Infinity));
    expectLogitsAt(result, () => m - 1);
    expect(result.reached.map((r) => r.rows.length)).toEqual(new Array<number>(m).fill(batch));
    expect(result.ms).toBeGreaterThan(0);
  });

  test('with -inf at exit 1 every row leaves at exit 1 with stage 1 logits, and later exits see no row', async () => {
    const result = await run(thresholdsOf(batch, m, (_n, l) => (l === 0 ? -Infinity : Infinity)));
    expectLogitsAt(result, () => 0);
    expect(result.reached.slice(1).every((r) => r.rows.length === 0)).toBe(true);
  });

  test('zero survivors after a middle block, a one-row batch, mixed exits and an empty batch all run', async () => {
    const third = await run(thresholdsOf(batch, m, (_n, l) => (l === 2 ? -Infinity : Infinity)));
    expectLogitsAt(third, () => 2);
    expect(third.reached.map((r) => r.rows.length)).toEqual([batch, batch, batch, ...new Array<number>(m - 3).fill(0)]);

    const mixed = await run(thresholdsOf(batch, m, (n, l) => (l === n % m ? -Infinity : Infinity)));
    expectLogitsAt(mixed, (row) => row % m);
    for (const [l, r] of mixed.reached.entries()) {
      expect(Array.from(r.rows)).toEqual(Array.from({ length: batch }, (_, i) => i).filter((i) => i % m >= l));
    }

    const one = await run(
      thresholdsOf(1, m, () => Infinity),
      1,
      1,
      input.subarray(0, input.length / batch),
    );
    expect(Array.from(one.exits)).toEqual([m - 1]);

    const none = await run(new Float64Array(0), 0, 0, new Float32Array(0));
    expect(none.exits.length).toBe(0);
  });

  test.each(['margin', 'maxprob', 'entropy'] as const)(
    'parity (%s): exits and scores equal the router on the stage chain logits, at EERO budget 0.5 thresholds',
    async (score) => {
      const calibration = await readBundleOutputs(bundle, 'calibration');
      const costs = bundle.manifest.exits.map((e) => e.macs);
      const cache = new ThresholdCache({ calibration, costs });
      const policy = cache.get(0.5 * (costs[m - 1] as number), { score });
      const thr = policy.thresholds;
      const scoring: ScoringOptions = policy.scoring;
      const thresholds = thresholdsOf(batch, m, (_n, l) => thr[l] as number);
      const result = await graph.run(
        input,
        batch,
        thresholds,
        scoring.temperature,
        tieNoise(batch, m, k, scoring.seed),
        KIND_CODES[score] as ScoreKindCode,
      );

      // The router, row by row, on the chain's logits (row key = row index, as in computeExitScores).
      const probs = new Float64Array(k);
      let near = 0;
      let worstScore = 0;
      let worstOwn = 0;
      for (let n = 0; n < batch; n++) {
        let exit = m - 1;
        let close = false;
        for (let l = 0; l < m; l++) {
          softmaxRow(chain[l] as Float32Array, n * k, k, scoring.temperature, probs);
          const want = scoreRow(probs, l, n, scoring).score;
          const reached = result.reached[l] as { rows: Int32Array; scores: Float64Array };
          const at = reached.rows.indexOf(n);
          if (at >= 0) worstScore = Math.max(worstScore, Math.abs((reached.scores[at] as number) - want));
          if (l === m - 1) break;
          close ||= Math.abs(want - (thr[l] as number)) < 1e-9;
          if (want >= (thr[l] as number)) {
            exit = l;
            break;
          }
        }
        if (close) near++;
        else expect([n, result.exits[n]]).toEqual([n, exit]);
        // The graph's own scoring, exactly: the router on the logits the graph returned for the row.
        const e = result.exits[n] as number;
        softmaxRow(result.logits, n * k, k, scoring.temperature, probs);
        const own = result.reached[e] as { rows: Int32Array; scores: Float64Array };
        worstOwn = Math.max(worstOwn, Math.abs((own.scores[own.rows.indexOf(n)] as number) - scoreRow(probs, e, n, scoring).score));
      }
      console.info(
        `${name} ${score}: ${batch - near} of ${batch} rows checked, ${near} within 1e-9 of a threshold; ` +
          `exits used ${[...new Set(result.exits)].sort((a, b) => a - b).join(',')}; max |score - router on the chain's logits| ` +
          `${worstScore.toExponential(1)}; max |score - router on the graph's logits| ${worstOwn.toExponential(1)}`,
      );
      // In-graph scoring is the router's to the last bits or so; the logits themselves may differ
      // from the chain's in the last bits (ConvNeXt's exit heads average NHWC features, see models/toolkit/eero_toolkit/early_exit/channels_last.py).
      expect(worstOwn).toBeLessThan(1e-12);
      expect(worstScore).toBeLessThan(1e-5);
      // Rows within 1e-9 of a threshold may legitimately go either way; there should be few.
      expect(near).toBeLessThan(batch / 4);
      expect(new Set(result.exits).size).toBeGreaterThan(1); // budget 0.5 spreads the fixtures over several exits
    },
  );

  test('the spec lists the learned score with its features; a manifest or a run without what it needs is refused', async () => {
    const spec = earlyExitGraphSpec(bundle.manifest);
    expect(spec.scores).toEqual({ margin: 0, maxprob: 1, entropy: 2, learned: 3 });
    // In the order of the bundle's learned-score file (its weights' order).
    const file = join(dir, bundle.manifest.learnedScore?.file as string);
    expect(spec.learnedFeatures).toEqual((JSON.parse(readFileSync(file, 'utf8')) as { features: string[] }).features);
    const ee = bundle.manifest.earlyExit as NonNullable<Bundle['manifest']['earlyExit']>;
    const { learnedWeights: _, ...inputs } = ee.inputs;
    expect(() => earlyExitGraphSpec({ ...bundle.manifest, earlyExit: { ...ee, inputs } })).toThrow(
      expect.objectContaining({ code: 'MODEL_INVALID', message: expect.stringContaining('learnedWeights') }),
    );
    // A manifest without `scores` (composed before the learned score) lists the three fixed scores.
    const { scores: __, learnedFeatures: ___, ...older } = ee;
    expect(earlyExitGraphSpec({ ...bundle.manifest, earlyExit: older }).scores).toEqual({ margin: 0, maxprob: 1, entropy: 2 });
    const thresholds = thresholdsOf(batch, m, () => Infinity);
    const wrong = { learnedWeights: new Float64Array(3) };
    await expect(graph.run(input, batch, thresholds, 1, tieNoise(batch, m, k, 0), 3, wrong)).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringContaining('learned weights hold 3 values'),
    });
  });

  test('opening names what the graph lacks; a bad run is an INTERNAL error', async () => {
    const spec = earlyExitGraphSpec(bundle.manifest);
    const wrong = { ...spec, outputs: { ...spec.outputs, rows: 'exit{l}_row_ids' } };
    const error = await openEarlyExitGraph(ort, join(dir, spec.file), wrong, SESSION_OPTIONS).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EeroError);
    expect((error as EeroError).code).toBe('MODEL_INVALID');
    expect((error as EeroError).message).toContain('output "exit1_row_ids"');
    const missing = await openEarlyExitGraph(ort, join(dir, 'no-such.onnx'), spec, SESSION_OPTIONS).catch((e: unknown) => e);
    expect((missing as EeroError).code).toBe('MODEL_INVALID');
    await expect(graph.run(input, batch, new Float64Array(1), 1, tieNoise(batch, m, k, 0), 0)).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});

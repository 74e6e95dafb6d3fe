import { loadBundle, readBundleOutputs } from '../../src/config';
import type { EeroError } from '../../src/errors';
import type { ScoredOutputs } from '../../src/router';
import {
  binomialCdf,
  calibrateCertified,
  certificationPath,
  concatScored,
  computeExitScores,
  disagreementRates,
  evaluatePolicy,
  fixedSequenceTest,
  lossesOf,
  selectScoredRows,
  sortedExitScores,
  splitRows,
  wilsonInterval,
} from '../../src/router';
import { RESNET_BUNDLE } from '../support/bundles';

function thrown(f: () => unknown): EeroError {
  try {
    f();
  } catch (e) {
    return e as EeroError;
  }
  throw new Error('expected a throw');
}

function agreementOf(predictions: Int32Array, s: ScoredOutputs): number {
  const fin = s.predictions[s.exits - 1] as Int32Array;
  return predictions.filter((p, i) => p === fin[i]).length / s.images;
}

describe('certified agreement on resnet18-fmnist', () => {
  let cal: ScoredOutputs;
  let test: ScoredOutputs;
  let costs: Float64Array;
  let full: number;

  beforeAll(async () => {
    const bundle = await loadBundle(RESNET_BUNDLE);
    cal = computeExitScores(await readBundleOutputs(bundle, 'calibration'));
    test = computeExitScores(await readBundleOutputs(bundle, 'test'));
    costs = Float64Array.from(bundle.manifest.exits.map((e) => e.macs));
    full = costs[costs.length - 1] as number;
  });

  it('meets its agreement target on the test split, at well under the full cost', () => {
    for (const guarantee of [
      { agreement: 0.99, delta: 0.05 },
      { agreement: 0.995, delta: 0.1 },
    ]) {
      const p = calibrateCertified(cal, costs, undefined, { guarantee });
      const e = evaluatePolicy(p, test, costs);
      expect(agreementOf(e.predictions, test)).toBeGreaterThanOrEqual(guarantee.agreement);
      expect(e.costFraction).toBeLessThan(0.6);
      expect(p.kind).toBe('certified');
      expect(p.certificate.agreement).toBeGreaterThanOrEqual(guarantee.agreement);
    }
  });

  it('keeps test accuracy within eps of the final exit under the accuracy guarantee', () => {
    const fin = test.predictions[test.exits - 1] as Int32Array;
    const finalAccuracy = fin.filter((p, i) => p === test.labels[i]).length / test.images;
    for (const eps of [0.005, 0.01]) {
      const p = calibrateCertified(cal, costs, undefined, { guarantee: { accuracyDrop: eps, delta: 0.05 } });
      expect(evaluatePolicy(p, test, costs).accuracy).toBeGreaterThanOrEqual(finalAccuracy - eps);
    }
  });

  it('tests from the full model down and serves the last vector before the first p-value above delta', () => {
    const p = calibrateCertified(cal, costs, undefined, { guarantee: { agreement: 0.99, delta: 0.05 } });
    const c = p.certificate;
    expect(c.trace[0]).toEqual({ budget: full, losses: 0, pValue: binomialCdf(0, c.testImages, c.alpha) });
    expect(c.trace).toHaveLength(c.tested);
    const stopped = c.tested < c.pathLength;
    const passed = stopped ? c.trace.slice(0, -1) : c.trace;
    passed.forEach((t) => expect(t.pValue).toBeLessThanOrEqual(0.05));
    if (stopped) expect(c.trace[c.tested - 1]?.pValue).toBeGreaterThan(0.05);
    expect(c.budget).toBe((passed[passed.length - 1] as { budget: number }).budget);
    expect(c.pValue).toBe(binomialCdf(c.losses, c.testImages, c.alpha));
    expect([c.pathImages, c.testImages]).toEqual([2500, 2500]);
    expect(p.budget).toBe(c.budget);
  });

  it('serves under a budget the certified vector fits, and otherwise names the cheapest certified budget', () => {
    const free = calibrateCertified(cal, costs, undefined);
    const b = free.certificate.budget;
    expect(calibrateCertified(cal, costs, b).thresholds).toEqual(free.thresholds);
    expect(calibrateCertified(cal, costs, full).thresholds).toEqual(free.thresholds);
    const err = thrown(() => calibrateCertified(cal, costs, 0.9 * b));
    expect(err.code).toBe('GUARANTEE_INFEASIBLE');
    expect(err.details?.cheapestCertifiedFraction).toBe(b / full);
    expect(err.message).toContain(`${+(100 * (b / full)).toPrecision(4)}%`);
    // Below the first exit the usual infeasibility error comes first.
    expect(thrown(() => calibrateCertified(cal, costs, 0.5 * (costs[0] as number))).details?.cheapestFeasible).toBe(costs[0]);
  });

  it('builds the path from the path half alone: corrupting the test half changes the verdicts, not the vectors', () => {
    const { path: rows, test: testRows } = splitRows(cal.images, 0.5, 0);
    const half = selectScoredRows(cal, rows);
    const path = certificationPath(sortedExitScores(half), disagreementRates(half), costs);
    const honest = calibrateCertified(cal, costs, undefined);
    // Make exit 1 disagree with the final exit on every test-half image.
    const fin = cal.predictions[cal.exits - 1] as Int32Array;
    const first = Int32Array.from(cal.predictions[0] as Int32Array);
    testRows.forEach((i) => (first[i] = ((fin[i] as number) + 1) % 10));
    const corrupted = calibrateCertified({ ...cal, predictions: [first, ...cal.predictions.slice(1)] }, costs, undefined);
    for (const p of [honest, corrupted]) {
      const j = p.certificate.tested - (p.certificate.tested < path.length ? 2 : 1);
      expect(p.thresholds).toEqual(path[j]?.thresholds);
    }
    expect(corrupted.certificate.budget).toBeGreaterThan(honest.certificate.budget);
  });

  it('stops fixed-sequence testing at the first failure and never tests past it', () => {
    const m = cal.exits;
    const top = Float64Array.from({ length: m }, (_, l) => (l === m - 1 ? -Infinity : Infinity));
    const exit1 = new Float64Array(m).fill(-Infinity);
    const path = [top, exit1, top].map((thresholds, j) => ({ budget: full - j, expectedCost: full, thresholds }));
    const rows = Int32Array.from({ length: 1000 }, (_, i) => i);
    const run = fixedSequenceTest(path, cal, costs, rows, 'agreement', 0.01, 0.05);
    expect(run.last).toBe(0);
    expect(run.trace).toHaveLength(2);
    // Exit 1 disagrees with the final exit on about a quarter of the images.
    expect(run.trace[1]?.losses).toBeGreaterThan(150);
    expect(run.lastLosses).toEqual({ losses: 0, disagreements: 0, accuracyLost: 0, cost: 1000 * full });
  });

  it('counts "early wrong, final right" as the accuracy loss, which bounds the accuracy drop', () => {
    const exit1 = new Float64Array(cal.exits).fill(-Infinity);
    const rows = Int32Array.from({ length: cal.images }, (_, i) => i);
    const l = lossesOf(cal, exit1, costs, rows, 'accuracy');
    const early = cal.predictions[0] as Int32Array;
    const fin = cal.predictions[cal.exits - 1] as Int32Array;
    let wrongRight = 0;
    let drop = 0;
    for (let i = 0; i < cal.images; i++) {
      const y = cal.labels[i];
      if (early[i] !== y && fin[i] === y) wrongRight++;
      drop += Number(fin[i] === y) - Number(early[i] === y);
    }
    expect(l.losses).toBe(wrongRight);
    expect(l.accuracyLost).toBe(drop);
    expect(drop).toBeLessThanOrEqual(l.losses);
    expect(l.cost).toBe(cal.images * (costs[0] as number));
  });

  it('walks from the full model down evenly spaced budgets to the first exit, never above each budget', () => {
    const path = certificationPath(sortedExitScores(cal), disagreementRates(cal), costs, 50);
    expect(path).toHaveLength(51);
    expect(Array.from(path[0]?.thresholds ?? [])).toEqual([...new Array<number>(costs.length - 1).fill(Infinity), -Infinity]);
    expect(path[50]?.budget).toBe(costs[0]);
    const rows = Int32Array.from({ length: cal.images }, (_, i) => i);
    path.forEach((p, j) => {
      if (j > 0) expect(p.budget / full).toBeCloseTo(1 - ((1 - (costs[0] as number) / full) * j) / 50, 12);
      expect(p.expectedCost).toBeLessThanOrEqual(p.budget * (1 + 1e-12));
      // On the images the quantiles came from, EERO's cost bound holds (one image of slack for the floor()).
      expect(lossesOf(cal, p.thresholds, costs, rows, 'agreement').cost / cal.images).toBeLessThanOrEqual(p.budget + full / cal.images);
    });
  });

  it('spends the whole budget above EERO`s unconstrained cost (mu < 0), so the top of the path is not flat', () => {
    const path = certificationPath(sortedExitScores(cal), disagreementRates(cal), costs, 50);
    const upper = path.slice(1, 10);
    upper.forEach((p) => expect(p.expectedCost / p.budget).toBeCloseTo(1, 9));
    // Distinct vectors: each step lets more images leave early.
    for (let j = 2; j < 10; j++) expect(path[j]?.thresholds).not.toEqual(path[j - 1]?.thresholds);
  });

  it('refuses a calibration set too small to certify even the full model, naming the images needed', () => {
    const tiny = selectScoredRows(
      cal,
      Int32Array.from({ length: 400 }, (_, i) => i),
    );
    const err = thrown(() => calibrateCertified(tiny, costs, undefined, { guarantee: { agreement: 0.99, delta: 0.05 } }));
    expect(err.code).toBe('GUARANTEE_INFEASIBLE');
    // 0.99^200 = 0.134 > 0.05; (1 - 0.01)^n <= 0.05 needs n >= 299.
    expect(err.details).toMatchObject({
      reason: 'too-few-calibration-images',
      testImages: 200,
      testImagesNeeded: 299,
      calibrationImagesNeeded: 598,
    });
    expect(err.message).toContain('299 test images');
    expect(() => calibrateCertified(tiny, costs, undefined, { guarantee: { agreement: 0.9, delta: 0.05 } })).not.toThrow();
  });

  it('validates the guarantee and refuses the accuracy flavour without labels', () => {
    const bad = [{ agreement: 1 }, { agreement: 0.99, accuracyDrop: 0.01 }, {}, { agreement: 0.99, delta: 0 }, { accuracyDrop: 0 }];
    for (const guarantee of bad) expect(thrown(() => calibrateCertified(cal, costs, undefined, { guarantee })).code).toBe('BAD_PARAMETER');
    const unlabelled = { ...cal, labels: new Int32Array(cal.images).fill(-1) };
    expect(thrown(() => calibrateCertified(unlabelled, costs, undefined, { guarantee: { accuracyDrop: 0.01 } })).message).toContain(
      'labelled',
    );
    // The agreement flavour needs no labels and gives the same answer without them.
    expect(calibrateCertified(unlabelled, costs, undefined).thresholds).toEqual(calibrateCertified(cal, costs, undefined).thresholds);
  });

  it('keeps the share of re-splits whose held-out agreement misses the target at or below delta', () => {
    // 40 random 5,000 / 10,000 splits of calibration + test pooled; benchmarks/certify.ts runs 200.
    const both = concatScored(cal, test);
    expect([both.images, both.labels[cal.images], (both.scores[2] as Float64Array)[both.images - 1]]).toEqual([
      cal.images + test.images,
      test.labels[0],
      (test.scores[2] as Float64Array)[test.images - 1],
    ]);
    let violations = 0;
    const runs = 40;
    for (let seed = 1; seed <= runs; seed++) {
      const { path: calRows, test: held } = splitRows(both.images, (cal.images + 0.5) / both.images, seed);
      const p = calibrateCertified(selectScoredRows(both, calRows), costs, undefined, {
        guarantee: { agreement: 0.99, delta: 0.1 },
        splitSeed: seed,
      });
      const r = lossesOf(both, p.thresholds, costs, held, 'agreement');
      if (1 - r.disagreements / held.length < 0.99) violations++;
    }
    // Not significantly above delta: the Wilson interval's lower end stays below it.
    expect(wilsonInterval(violations, runs).lower).toBeLessThanOrEqual(0.1);
  });
});

import { loadBundle, readBundleOutputs } from '../../src/config';
import type { ExitOutputs, ScoredOutputs } from '../../src/router';
import {
  agreementThresholdCache,
  computeExitScores,
  disagreementRates,
  evaluatePolicy,
  exitErrorRates,
  ThresholdCache,
  withAgreementLabels,
} from '../../src/router';
import { RESNET_BUNDLE } from '../support/bundles';
import { codeOf } from '../support/eero-failure';

/** 1 - P(exit l agrees with the final exit), counted directly. */
function directDisagreement(s: ScoredOutputs): number[] {
  const fin = s.predictions[s.exits - 1] as Int32Array;
  return s.predictions.map((p) => 1 - p.filter((v, i) => v === fin[i]).length / s.images);
}

describe('agreement recalibration (resnet18-fmnist)', () => {
  let unlabelled: ExitOutputs;
  let costs: number[];
  let test: ExitOutputs;

  beforeAll(async () => {
    const bundle = await loadBundle(RESNET_BUNDLE);
    const cal = await readBundleOutputs(bundle, 'calibration');
    test = await readBundleOutputs(bundle, 'test');
    // Monitored traffic has no labels.
    unlabelled = { ...cal, labels: new Int32Array(cal.images).fill(-1) };
    costs = bundle.manifest.exits.map((e) => e.macs);
  });

  it('turns EERO error rates into disagreement rates with the final exit: R[l] = 1 - agreement, R[M] = 0', () => {
    const direct = directDisagreement(computeExitScores(unlabelled));
    const r = exitErrorRates(computeExitScores(withAgreementLabels(unlabelled))) as Float64Array;
    const rates = disagreementRates(computeExitScores(unlabelled));
    direct.forEach((d, l) => {
      expect(r[l]).toBeCloseTo(d, 14);
      expect(rates[l]).toBeCloseTo(d, 14);
    });
    expect(r[r.length - 1]).toBe(0);
    // Real exits disagree less the deeper they are (exit 1 about a quarter of the time).
    expect(direct[0]).toBeGreaterThan(0.15);
    expect(direct[direct.length - 2]).toBeLessThan(0.02);
  });

  it('labels raw outputs exactly as scoring them would, for any seed and temperature', () => {
    for (const scoring of [{}, { seed: 3, temperature: 2 }]) {
      const raw = withAgreementLabels(unlabelled, scoring);
      const scored = computeExitScores(unlabelled, scoring);
      expect(raw.labels).toEqual(scored.predictions[scored.exits - 1]);
      expect(withAgreementLabels(scored).labels).toEqual(raw.labels);
    }
    expect(unlabelled.labels[0]).toBe(-1); // the input is not modified
  });

  it('feeds ThresholdCache without labels, where the plain cache refuses', () => {
    expect(codeOf(() => new ThresholdCache({ calibration: unlabelled, costs }))).toBe('BAD_PARAMETER');
    const cache = agreementThresholdCache(unlabelled, { costs });
    const full = costs[costs.length - 1] as number;
    const policy = cache.get(0.5 * full);
    // EERO's budget holds on the images the thresholds came from (one image of slack for the quantile floor).
    const onCal = evaluatePolicy(policy, unlabelled, costs);
    expect(onCal.averageCost).toBeLessThanOrEqual(0.5 * full + full / unlabelled.images);
    // "Accuracy" against agreement labels is agreement with the final exit; at half the cost it stays high.
    const agreement = evaluatePolicy(policy, withAgreementLabels(test), costs).accuracy;
    expect(agreement).toBeGreaterThan(0.97);
    expect(agreement).toBeLessThan(1);
  });
});

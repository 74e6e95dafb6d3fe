/**
 * A model's routing against clients and recalibrations: new expensive rules
 * are limited per client, rules clients asked for survive a recalibration
 * (rebuilt, or kept when the new outputs are too few for their guarantee).
 * Real calibration outputs of the shipped ResNet bundle; no model run.
 */
import { loadBundle, readBundleOutputs, type ExitOutputs } from '../../src/config';
import { type EeroError } from '../../src/errors';
import { createDerivationLimiter } from '../../src/pipeline/derivation-limiter';
import { modelCosts } from '../../src/pipeline/model-costs';
import { ModelRouting, type DerivationEvent } from '../../src/pipeline/model-routing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  calibrateCertified,
  certifiedSamplesNeeded,
  validateLearnedParams,
  type LearnedParams,
  type ThresholdPolicy,
} from '../../src/router';
import { RESNET_BUNDLE } from '../support/bundles';

let calibration: ExitOutputs;
let costs: ReturnType<typeof modelCosts>;
beforeAll(async () => {
  const bundle = await loadBundle(RESNET_BUNDLE);
  calibration = await readBundleOutputs(bundle, 'calibration');
  costs = modelCosts(bundle.manifest, 'macs', undefined);
});

/** The first `n` rows of `outputs`. */
function firstRows(outputs: ExitOutputs, n: number): ExitOutputs {
  const k = outputs.classes;
  return { ...outputs, images: n, labels: outputs.labels.slice(0, n), logits: outputs.logits.map((l) => l.slice(0, n * k)) };
}

function routing(events: DerivationEvent[] = [], perClient = 2, more: { perAddress?: number; learned?: LearnedParams } = {}): ModelRouting {
  return new ModelRouting({
    calibration,
    costs,
    budget: { fraction: 0.7 },
    ledger: true,
    defaults: {},
    limiter: createDerivationLimiter(() => 0, { perClient, windowMs: 10_000, ...(more.perAddress ? { perAddress: more.perAddress } : {}) }),
    onDerivation: (e) => events.push(e),
    ...(more.learned ? { learned: more.learned } : {}),
  });
}

function refusal(choose: () => unknown): EeroError | undefined {
  try {
    choose();
  } catch (e) {
    return e as EeroError;
  }
  return undefined;
}

const certified = (budget: number) => ({ budget: { fraction: budget }, guarantee: { agreement: 0.98, delta: 0.1 } });

describe('new expensive rules', () => {
  it('are limited per client: one client asking new values in a loop does not stop another', () => {
    const events: DerivationEvent[] = [];
    const r = routing(events);
    r.choose(certified(0.6), 'greedy');
    r.choose(certified(0.61), 'greedy');
    const refused = refusal(() => r.choose(certified(0.62), 'greedy'));
    expect(refused?.code).toBe('OVERLOADED');
    expect(refused?.details?.retryAfterSeconds).toBe(5);
    // Another client's new value is computed.
    expect(r.choose(certified(0.63), 'polite').rule).toBe('certified');
    // A rule already computed is free for everyone.
    expect(r.choose(certified(0.6), 'greedy').rule).toBe('certified');
    expect(events).toEqual(['computed', 'computed', 'refused', 'computed']);
  });

  it('are limited per address too: a sender making up a new key per request stops at its address limit, another address does not', () => {
    const r = routing([], 2, { perAddress: 3 });
    for (const [i, budget] of [0.6, 0.61, 0.62].entries())
      expect(r.choose(certified(budget), `key:${i}`, '10.0.0.1').rule).toBe('certified');
    expect(refusal(() => r.choose(certified(0.63), 'key:3', '10.0.0.1'))?.code).toBe('OVERLOADED');
    expect(r.choose(certified(0.63), 'key:4', '10.0.0.2').rule).toBe('certified');
  });

  it('count a learned-score budget not asked for before', () => {
    const file = JSON.parse(readFileSync(join(RESNET_BUNDLE, 'learned-score.json'), 'utf8')) as unknown;
    const learned = validateLearnedParams(file, costs.costs.length, calibration.classes);
    const events: DerivationEvent[] = [];
    const r = routing(events, 2, { learned });
    const asked = (fraction: number) => ({ score: 'learned' as const, budget: { fraction } });
    r.choose(asked(0.5), 'greedy');
    r.choose(asked(0.51), 'greedy');
    expect(refusal(() => r.choose(asked(0.52), 'greedy'))?.code).toBe('OVERLOADED');
    // One asked for before is served, even to the client at its limit.
    expect(() => r.choose(asked(0.5), 'greedy')).not.toThrow();
    expect(events).toEqual(['computed', 'computed', 'refused']);
  });

  it('are computed on the calibration scored once, with the thresholds a fresh scoring gives', () => {
    const r = routing([], 4);
    const b = costs.full * 0.6;
    for (const agreement of [0.97, 0.98]) {
      const guarantee = { agreement, delta: 0.1 };
      const served = r.choose({ budget: { fraction: 0.6 }, guarantee }).policy as ThresholdPolicy;
      const fresh = calibrateCertified(calibration, costs.costs, b, { guarantee, costUnit: costs.unitLabel });
      expect(Array.from(served.thresholds)).toEqual(Array.from(fresh.thresholds));
    }
  });
});

describe('a recalibration', () => {
  it('rebuilds every rule clients asked for before swapping, so none has to be derived (or refused) after it', async () => {
    const events: DerivationEvent[] = [];
    const r = routing(events, 1);
    const before = r.choose(certified(0.6), 'a').policy as ThresholdPolicy;
    // Rebuilt on other outputs of the same size: a new certificate, not the old object.
    const shuffled = { ...calibration, logits: calibration.logits.map((l) => l.slice()) };
    const result = await r.recalibrate(shuffled);
    expect(result).toMatchObject({ version: 2, rebuilt: 1, kept: [] });
    // The client's limit is spent, yet its rule is served: it was rebuilt, not forgotten.
    const after = r.choose(certified(0.6), 'a');
    expect(after.version).toBe(2);
    expect(after.policy).not.toBe(before);
    expect(events).toEqual(['computed']);
  });

  it('keeps a certified rule as it was when the new outputs are fewer than its guarantee needs', async () => {
    const r = routing();
    const before = r.choose(certified(0.6), 'a').policy;
    const needed = certifiedSamplesNeeded({ agreement: 0.98, delta: 0.1 });
    expect(needed).toBe(228); // log(0.1) / log(0.98) = 113.97 test images, half of the set
    const result = await r.recalibrate(firstRows(calibration, needed - 1));
    expect(result.kept).toEqual([{ rule: expect.stringContaining('certified'), samplesNeeded: needed }]);
    expect(r.choose(certified(0.6), 'a').policy).toBe(before);
    // With enough outputs it is rebuilt.
    const enough = await r.recalibrate(firstRows(calibration, 2000));
    expect(enough).toMatchObject({ rebuilt: 1, kept: [] });
    expect(r.choose(certified(0.6), 'a').policy).not.toBe(before);
  });

  it('serves the old rules until the new ones are ready', async () => {
    const r = routing();
    r.choose(certified(0.6), 'a');
    const pending = r.recalibrate(calibration);
    // Before the rebuild finishes, requests are routed by version 1.
    expect(r.choose({}).version).toBe(1);
    await pending;
    expect(r.choose({}).version).toBe(2);
  });
});

describe('the samples a guarantee needs', () => {
  it('is what a p-value of delta with no loss at all takes, on the test half', () => {
    // 0.99 at delta 0.05: 299 test images (0.99^298 > 0.05 >= 0.99^299), 598 in all.
    expect(certifiedSamplesNeeded({ agreement: 0.99, delta: 0.05 })).toBe(598);
    expect(0.99 ** 298).toBeGreaterThan(0.05);
    expect(0.99 ** 299).toBeLessThanOrEqual(0.05);
  });
});

import { calibrateEero, computeExitScores, ThresholdCache } from '../../src/router';
import { syntheticOutputs } from './synthetic';

const costs = [1e8, 2e8, 3.5e8, 5e8];
const calibration = syntheticOutputs({ images: 3000, seed: 41 });

describe('ThresholdCache', () => {
  const cache = new ThresholdCache({ calibration, costs, seed: 2 });

  it('gives the same thresholds as a full calibration at the rounded budget', () => {
    const b = 2.75e8;
    const p = cache.get(b);
    const direct = calibrateEero(calibration, costs, p.budget as number, { seed: 2 });
    expect(p.thresholds).toEqual(direct.thresholds);
    expect(p.calibration.mu).toBe(direct.calibration.mu);
    const ent = cache.get(b, { score: 'entropy', beta: 0.1 });
    const directEnt = calibrateEero(calibration, costs, ent.budget as number, { seed: 2, score: 'entropy', beta: 0.1 });
    expect(ent.thresholds).toEqual(directEnt.thresholds);
    expect(ent.thresholds).not.toEqual(p.thresholds);
  });

  it('keeps the calibration scored per score, as a fresh scoring at its seed gives it, for the rules derived on it', () => {
    const margin = cache.scored();
    expect(cache.scored('margin')).toBe(margin);
    expect(margin).toEqual(computeExitScores(calibration, { seed: 2 }));
    expect(cache.scored('maxprob')).toEqual(computeExitScores(calibration, { seed: 2, score: 'maxprob' }));
  });

  it('rounds budgets down, so nearby requests share an entry and none spends more than asked', () => {
    const c = new ThresholdCache({ calibration, costs });
    const a = c.get(3e8 + 1);
    const b = c.get(3e8 + 40);
    expect(b).toBe(a);
    expect(c.size).toBe(1);
    expect(a.budget).toBeLessThanOrEqual(3e8 + 1);
    expect(c.get(1e8 + 3).budget).toBe(1e8); // still feasible at cost[1]
    expect(c.get(9e8).budget).toBe(5e8);
    expect(() => c.get(0.99e8)).toThrow(expect.objectContaining({ code: 'BUDGET_INFEASIBLE' }));
  });

  it('keeps at most maxEntries, dropping the least recently used', () => {
    const c = new ThresholdCache({ calibration, costs, maxEntries: 3 });
    const first = c.get(2e8);
    c.get(3e8);
    c.get(4e8);
    expect(c.get(2e8)).toBe(first); // touch: 3e8 is now the oldest
    c.get(4.5e8);
    expect(c.size).toBe(3);
    expect(c.get(2e8)).toBe(first);
    const again = c.get(3e8);
    expect(c.size).toBe(3);
    expect(again.budget).toBe(3e8);
    expect(c.get(4e8)).not.toBe(undefined);
  });

  it('computes each new budget from the precomputed scores without growing past one entry per budget', () => {
    // Speed is measured in benchmarks/threshold-cache.ts (a ratio against full calibration), never here.
    const c = new ThresholdCache({ calibration, costs, maxEntries: 10000 });
    for (let i = 0; i < 500; i++) c.get(1.2e8 + i * 7e5);
    expect(c.size).toBe(500);
  });
});

import { exitsUnderThresholds, globalThresholds, mulberry32, spendMatchedThreshold } from '../../../src/router';
import { meanCost, thresholdCandidates } from '../../../src/router/learned/allocation';

/** scores[exit][row], random but seeded; the last exit's row is +Infinity as learnedScores gives it. */
function randomScores(exits: number, n: number, seed: number): Float64Array[] {
  const rand = mulberry32(seed);
  return Array.from({ length: exits }, (_, l) =>
    l === exits - 1 ? new Float64Array(n).fill(Infinity) : Float64Array.from({ length: n }, () => 4 * rand() - 2 + l),
  );
}

describe('global threshold on the learned score', () => {
  it('sends a row out at the first exit whose score reaches the threshold, else at the last', () => {
    const s = [Float64Array.from([0.9, 0.1, 0.1]), Float64Array.from([0.2, 0.6, 0.1]), Float64Array.from([Infinity, Infinity, Infinity])];
    expect(Array.from(exitsUnderThresholds(s, globalThresholds(0.5, 3)))).toEqual([0, 1, 2]);
    expect(Array.from(globalThresholds(0.5, 4, 2))).toEqual([0.5, 0.5, -Infinity, -Infinity]);
    expect(Array.from(exitsUnderThresholds(s, globalThresholds(0.5, 3, 1)))).toEqual([0, 1, 1]);
  });

  it('never spends more than the target, and the next higher score would', () => {
    const costs = [1, 2, 3.5, 5];
    const scores = randomScores(4, 2000, 3);
    for (const target of [1, 1.3, 2, 2.77, 3.9, 4.99]) {
      const t = spendMatchedThreshold(scores, costs, target);
      const cost = meanCost(exitsUnderThresholds(scores, globalThresholds(t, 4)), costs);
      expect(cost).toBeLessThanOrEqual(target);
      // The lowest score at or above t exits the same rows; the next distinct one above it would overspend.
      const above = [...new Set(scores.slice(0, 3).flatMap((s) => Array.from(s)))].filter((v) => v >= t).sort((a, b) => a - b);
      if (above.length > 1) {
        expect(meanCost(exitsUnderThresholds(scores, globalThresholds(above[0] as number, 4)), costs)).toBe(cost);
        expect(meanCost(exitsUnderThresholds(scores, globalThresholds(above[1] as number, 4)), costs)).toBeGreaterThan(target);
      }
    }
  });

  it('sets the threshold halfway between two neighbouring calibration scores, never on one', () => {
    const costs = [1, 2, 3.5, 5];
    const scores = randomScores(4, 2000, 5);
    const all = [...new Set(scores.slice(0, 3).flatMap((s) => Array.from(s)))].sort((a, b) => a - b);
    for (const target of [1.3, 2, 2.77, 3.9]) {
      const t = spendMatchedThreshold(scores, costs, target);
      const at = all.findIndex((v) => v >= t);
      expect(at).toBeGreaterThan(0);
      const [below, above] = [all[at - 1] as number, all[at] as number];
      expect(t).toBe(below + (above - below) / 2);
      expect(below < t && t < above).toBe(true);
    }
    // Every row leaving at exit 1 fits: no calibration score lies below the threshold.
    expect(spendMatchedThreshold(scores, costs, 1)).toBe(-Infinity);
  });

  it('lets every row run to the end when the target covers it, and all leave at exit 1 at the cheapest cost', () => {
    const costs = [1, 2, 3.5, 5];
    const scores = randomScores(4, 300, 8);
    expect(spendMatchedThreshold(scores, costs, 5)).toBe(Infinity);
    const t = spendMatchedThreshold(scores, costs, 1);
    expect(Array.from(exitsUnderThresholds(scores, globalThresholds(t, 4))).every((l) => l === 0)).toBe(true);
  });

  it('with a cap, spends within the target and sends nobody past the capped exit', () => {
    const costs = [1, 2, 3.5, 5];
    const scores = randomScores(4, 1000, 4);
    const t = spendMatchedThreshold(scores, costs, 1.8, 2);
    const exitOf = exitsUnderThresholds(scores, globalThresholds(t, 4, 2));
    expect(meanCost(exitOf, costs)).toBeLessThanOrEqual(1.8);
    expect(Math.max(...exitOf)).toBeLessThanOrEqual(2);
  });

  it('searches the same candidates whether they are passed in (sorted once per calibration) or sorted per call', () => {
    const costs = [1, 2, 3.5, 5];
    const scores = randomScores(4, 1000, 9);
    (scores[1] as Float64Array)[7] = NaN;
    (scores[0] as Float64Array)[3] = (scores[1] as Float64Array)[5] as number; // a score two exits share
    for (const lastExit of [1, 2, 3]) {
      const cand = thresholdCandidates(scores, lastExit);
      const distinct = [...new Set(scores.slice(0, lastExit).flatMap((s) => Array.from(s)))].filter((v) => !Number.isNaN(v));
      expect(Array.from(cand)).toEqual(distinct.sort((a, b) => a - b));
      for (const target of [1.2, 2.5, 4]) {
        expect(spendMatchedThreshold(scores, costs, target, lastExit, cand)).toBe(spendMatchedThreshold(scores, costs, target, lastExit));
      }
    }
  });
});

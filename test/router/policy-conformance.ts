import type { EeroError } from '../../src/errors';
import type { ExitOutputs, ExitPolicy, ScoredOutputs } from '../../src/router';
import type { PolicyFactory } from '../../src/router/policy';
import { computeExitScores, evaluatePolicy, softmaxRow } from '../../src/router';
import { syntheticOutputs } from './synthetic';

/**
 * The shared suite every exit policy passes (Hono's runTest pattern): the
 * same synthetic 4-exit model, the same budgets, the same properties.
 */
export interface ConformanceOptions {
  /** Whether calibration aims at the budget (accuracy-target does not). */
  budgeted: boolean;
  /**
   * Whether any budget can be met closely (threshold sweeps) rather than in
   * steps of whole exits (patience, fixed exit).
   */
  tunable: boolean;
}

const COSTS = [1e8, 2e8, 3.5e8, 5e8];
const FULL = 5e8;
const N = 1500;
const FRACTIONS = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.85, 1];
const SEED = 7;

/** A simulation on the scored set when the policy scores as it was scored, else on the raw outputs (a score of its own, e.g. learned). */
function simulate(p: ExitPolicy, raw: ExitOutputs, scored: ScoredOutputs): ReturnType<typeof evaluatePolicy> {
  return evaluatePolicy(p, p.scoring.score === scored.scoring.score ? scored : raw, COSTS);
}

export function runPolicyConformance(name: string, factory: PolicyFactory, options: ConformanceOptions): void {
  describe(`${name}: exit policy conformance`, () => {
    let calib: ExitOutputs;
    let test: ExitOutputs;
    let calibScored: ScoredOutputs;
    let testScored: ScoredOutputs;
    let policies: ExitPolicy[];

    beforeAll(() => {
      calib = syntheticOutputs({ images: N, seed: 101 });
      test = syntheticOutputs({ images: N, seed: 202 });
      calibScored = computeExitScores(calib, { seed: SEED });
      testScored = computeExitScores(test, { seed: SEED });
      policies = FRACTIONS.map((f) => factory(calibScored, COSTS, f * FULL, { seed: SEED }));
    });

    it('always lets an image leave at the last exit', () => {
      for (const p of policies) {
        const s = p.createRowState(0);
        for (let l = 0; l < 3; l++) p.decideScored(l, -Infinity, l, s);
        expect(p.decideScored(3, -Infinity, 0, s)).toBe(true);
      }
    });

    it('refuses to decide exits out of order', () => {
      const p = policies[0] as ExitPolicy;
      expect(() => p.decideScored(1, 0.5, 0, p.createRowState(0))).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    });

    if (options.budgeted) {
      it('respects its budget on the calibration set', () => {
        // One image's worth of slack for the floor() in the quantile rule.
        FRACTIONS.forEach((f, i) => {
          const cost = simulate(policies[i] as ExitPolicy, calib, calibScored).averageCost;
          expect(cost).toBeLessThanOrEqual(f * FULL + FULL / N);
        });
      });

      if (options.tunable) {
        it("uses most of a budget that lies between two exits' costs", () => {
          FRACTIONS.forEach((f, i) => {
            if (f < 0.3 || f > 0.85) return;
            const cost = simulate(policies[i] as ExitPolicy, calib, calibScored).averageCost;
            expect(cost).toBeGreaterThan(0.85 * f * FULL);
          });
        });
      }

      it('refuses a budget below the cheapest exit with BUDGET_INFEASIBLE', () => {
        let err: EeroError | undefined;
        try {
          factory(calibScored, COSTS, 0.9e8, { seed: SEED });
        } catch (e) {
          err = e as EeroError;
        }
        expect(err?.code).toBe('BUDGET_INFEASIBLE');
        expect(err?.details?.cheapestFeasible).toBe(1e8);
      });
    }

    it('spends no less when the budget grows, on calibration and test sets', () => {
      for (const [raw, scored] of [
        [calib, calibScored],
        [test, testScored],
      ] as const) {
        const costs = policies.map((p) => simulate(p, raw, scored).averageCost);
        for (let i = 1; i < costs.length; i++) expect(costs[i]).toBeGreaterThanOrEqual(costs[i - 1] as number);
      }
    });

    it('is deterministic for a seed, from raw outputs as from scored ones', () => {
      const a = factory(calib, COSTS, 0.5 * FULL, { seed: SEED });
      const b = factory(calib, COSTS, 0.5 * FULL, { seed: SEED });
      const ea = evaluatePolicy(a, test, COSTS);
      expect(evaluatePolicy(b, test, COSTS)).toEqual(ea);
      expect(simulate(policies[3] as ExitPolicy, test, testScored)).toEqual(ea);
      expect(a.scoring.seed).toBe(SEED);
    });

    it('decides row by row exactly as the batched simulation does', () => {
      for (const p of [policies[1], policies[4]] as ExitPolicy[]) expectDecidesAsBatch(p, test, simulate(p, test, testScored));
    });
  });
}

/**
 * Row by row, from probabilities (decide) and from logits (decideLogits), the policy leaves every row of
 * `outputs` where the batched simulation `batch` does, with the same prediction.
 */
export function expectDecidesAsBatch(p: ExitPolicy, outputs: ExitOutputs, batch: ReturnType<typeof evaluatePolicy>): void {
  const k = outputs.classes;
  const probs = new Float64Array(k);
  for (let i = 0; i < outputs.images; i++) {
    const viaProbs = p.createRowState(i);
    const viaLogits = p.createRowState(i);
    let l = 0;
    for (; l < outputs.exits; l++) {
      const logits = outputs.logits[l] as Float32Array;
      const a = p.decide(l, softmaxRow(logits, i * k, k, p.scoring.temperature, probs), viaProbs);
      expect(p.decideLogits(l, logits, i * k, k, viaLogits)).toBe(a);
      if (a) break;
    }
    if (l !== batch.exitOf[i] || viaProbs.prediction !== batch.predictions[i]) {
      throw new Error(
        `row ${i}: decide() left at ${l} predicting ${viaProbs.prediction}, batch at ${batch.exitOf[i]} predicting ${batch.predictions[i]}`,
      );
    }
  }
}

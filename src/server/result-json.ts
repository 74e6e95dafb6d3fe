/** The JSON of one classified image on /v1/classify. */
import type { EeroError } from '../errors';
import type { ImageOutcome, RouteChoice } from '../pipeline';

const round = (v: number, digits = 3): number => +v.toFixed(digits);

/** The budget an answer was routed under: the model's limit B, what the request asked (b), the rule, the thresholds' version. */
export function budgetJson(choice: RouteChoice, limitFraction: number): Record<string, unknown> {
  return { limit: limitFraction, requested: choice.fraction, rule: choice.rule, thresholdsVersion: choice.version };
}

export function resultJson(
  model: string,
  budget: Record<string, unknown>,
  outcome: Extract<ImageOutcome, { ok: true }>,
): Record<string, unknown> {
  const r = outcome.result;
  const t = outcome.timings;
  return {
    model,
    label: r.label,
    probability: r.probability,
    topk: r.topk.map((e) => ({ label: e.label, probability: e.probability })),
    exit: r.exit,
    exits: r.exits,
    cost: { macs: r.macs, fraction: r.costFraction },
    forced: r.forced,
    stoppedBy: r.stoppedBy,
    ...(r.certified !== undefined ? { certified: r.certified } : {}),
    budget,
    timings: { queueMs: round(t.queueMs), preprocessMs: round(t.preprocessMs), inferenceMs: round(t.inferenceMs), batchSize: t.batchSize },
    ...(r.trace ? { trace: r.trace } : {}),
  };
}

export function errorItem(file: string, error: EeroError): Record<string, unknown> {
  return { file, error: { code: error.code, message: error.message } };
}

/** The JSON of one classified image on /v1/classify. */
import type { BudgetChoice } from '../pipeline';
import type { ImageAnswer } from './classify-request';

const round = (v: number, digits = 3): number => +v.toFixed(digits);

export function resultJson(model: string, choice: BudgetChoice, answer: Extract<ImageAnswer, { ok: true }>): Record<string, unknown> {
  const r = answer.result;
  return {
    model,
    label: r.label,
    probability: r.probability,
    topk: r.topk.map((t) => ({ label: t.label, probability: t.probability })),
    exit: r.exit,
    exits: r.exits,
    cost: { macs: r.macs, fraction: r.costFraction },
    forced: r.forced,
    budget: { policy: choice.name, fraction: choice.fraction },
    timings: {
      queueMs: round(r.timings.queueMs),
      preprocessMs: round(answer.preprocessMs),
      inferenceMs: round(r.timings.inferenceMs),
      batchSize: r.timings.batchSize,
    },
    ...(r.trace ? { trace: r.trace } : {}),
  };
}

export function errorItem(file: string, error: { code: string; message: string }): Record<string, unknown> {
  return { file, error: { code: error.code, message: error.message } };
}

/** The routing flags, declared once for every command that routes images (classify, calibrate). */
import type { RawRouting } from '../../pipeline';

export const routingFlags = {
  budget: {
    type: 'string',
    short: 'b',
    description: "average cost per image: a fraction of the full model (0.5, 50%) or MACs (6e6, 6M); default 0.5 or the policy's",
  },
  score: { type: 'string', description: 'confidence score: margin | maxprob | entropy (default margin)' },
  beta: { type: 'string', description: "EERO's exponential-weights temperature (not the softmax temperature; default 0.04)" },
  'accuracy-target': {
    type: 'string',
    description: 'instead of EERO: exit where an exit agrees with the final one on this share of calibration images (e.g. 0.99)',
    valueName: 'fraction',
  },
  agreement: {
    type: 'string',
    description: 'certified: agreement with the full model at least this (e.g. 0.99) with probability 1 - delta',
    valueName: 'fraction',
  },
  'accuracy-drop': {
    type: 'string',
    description: "certified: accuracy at least the full model's minus this (e.g. 0.005), with probability 1 - delta",
    valueName: 'fraction',
  },
  delta: { type: 'string', description: 'risk of the certified guarantee failing (default 0.05)' },
  'deadline-ms': { type: 'string', description: 'answer each image within this many milliseconds (caps its exit)', valueName: 'ms' },
} as const;

type RoutingFlagValues = { [K in keyof typeof routingFlags]?: string | undefined };

export function routingFlagValues(f: RoutingFlagValues): RawRouting {
  return {
    budget: f.budget,
    score: f.score,
    beta: f.beta,
    accuracyTarget: f['accuracy-target'],
    agreement: f.agreement,
    accuracyDrop: f['accuracy-drop'],
    delta: f.delta,
    deadlineMs: f['deadline-ms'],
  };
}

import { topTwo, type Scorer } from './scorer';

/** The top-1 probability. */
export const maxprobScorer = {
  name: 'maxprob',
  description: 'the top-1 probability',
  graphCode: 1,
  fitted: false,
  score: (probs) => topTwo(probs).top1,
} as const satisfies Scorer;

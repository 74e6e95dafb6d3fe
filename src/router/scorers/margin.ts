import { topTwo, type Scorer } from './scorer';

/** Top-1 minus top-2 probability: the score the EERO paper found best. */
export const marginScorer = {
  name: 'margin',
  description: "top-1 minus top-2 probability (EERO's default)",
  graphCode: 0,
  fitted: false,
  score(probs) {
    const { top1, top2 } = topTwo(probs);
    return top1 - top2;
  },
} as const satisfies Scorer;

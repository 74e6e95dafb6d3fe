import type { Scorer } from './scorer';

/** Negated entropy: sum p log p is <= 0, and 0 only for a one-hot output, so larger is surer. */
export const entropyScorer = {
  name: 'entropy',
  description: 'negated entropy of the probabilities',
  graphCode: 2,
  fitted: false,
  score(probs) {
    let s = 0;
    for (let c = 0; c < probs.length; c++) {
      const p = probs[c] ?? 0;
      if (p > 0) s += p * Math.log(p);
    }
    return s;
  },
} as const satisfies Scorer;

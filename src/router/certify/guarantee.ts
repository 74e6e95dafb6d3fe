import { EeroError } from '../../errors';

/**
 * Exactly one of:
 * - agreement: P(early answer = final exit's answer) >= agreement; no labels.
 * - accuracyDrop: accuracy >= the final exit's - accuracyDrop; labels needed.
 *   The tested loss is then 1[early wrong and final right], a 0/1 loss whose
 *   rate bounds the drop (drop = P(early wrong, final right) - P(early
 *   right, final wrong)), so the exact binomial tail applies to it.
 * with probability >= 1 - delta (default 0.05) over the calibration draw.
 * One loose shape rather than a union, so a parsed config object fits as is.
 */
export interface Guarantee {
  agreement?: number;
  accuracyDrop?: number;
  delta?: number;
}

export const DEFAULT_GUARANTEE: Readonly<Guarantee> = Object.freeze({ agreement: 0.99, delta: 0.05 });
const DEFAULT_DELTA = 0.05;

export type Flavour = 'agreement' | 'accuracy';

/** The loss tested and its level: alpha = 1 - agreement or accuracyDrop, delta as given or 0.05. */
export function resolveGuarantee(g: Guarantee): { flavour: Flavour; alpha: number; delta: number } {
  const bad = (why: string): never => {
    throw new EeroError('BAD_PARAMETER', `guarantee: ${why}`);
  };
  const delta = g.delta ?? DEFAULT_DELTA;
  if (!(delta > 0 && delta < 1)) bad(`delta must be in (0, 1), got ${delta}`);
  if ((g.agreement === undefined) === (g.accuracyDrop === undefined)) bad('give exactly one of agreement and accuracyDrop');
  if (g.agreement !== undefined) {
    if (!(g.agreement > 0 && g.agreement < 1)) bad(`agreement must be in (0, 1), got ${g.agreement}`);
    return { flavour: 'agreement', alpha: 1 - g.agreement, delta };
  }
  const eps = g.accuracyDrop as number;
  // eps = 0 is refused: a zero loss rate can never be certified from a finite sample.
  if (!(eps > 0 && eps < 1)) bad(`accuracyDrop must be in (0, 1), got ${eps}`);
  return { flavour: 'accuracy', alpha: eps, delta };
}

/**
 * Every exit score by name. Policies, calibration, the graph runner, the
 * routing options (HTTP, v2, CLI, YAML) and the docs list scores from here:
 * a new score is one file plus one line below.
 */
import { EeroError } from '../../errors';
import { entropyScorer } from './entropy';
import { learnedScorer } from './learned';
import { marginScorer } from './margin';
import { maxprobScorer } from './maxprob';
import type { Scorer } from './scorer';

const SCORERS = [marginScorer, maxprobScorer, entropyScorer, learnedScorer] as const;

export type ScoreKind = (typeof SCORERS)[number]['name'];

const BY_NAME: ReadonlyMap<string, Scorer> = new Map(SCORERS.map((s) => [s.name, s]));

/** Names of every registered score, in registration order. */
export const SCORE_KINDS: readonly ScoreKind[] = Object.freeze(SCORERS.map((s) => s.name));

export function isScoreKind(name: unknown): name is ScoreKind {
  return typeof name === 'string' && BY_NAME.has(name);
}

export function scorerOf(name: string): Scorer {
  const s = BY_NAME.get(name);
  if (s === undefined) throw new EeroError('BAD_PARAMETER', `unknown score "${name}"; use one of ${SCORE_KINDS.join(', ')}`);
  return s;
}

/** Every registered score (docs, help texts). */
export function scorers(): readonly Scorer[] {
  return SCORERS;
}

/**
 * Which engine path a batch of n rows takes when the one graph can route it: the early-exit graph from
 * `graphFrom` rows, the stage chain below. Measured at load on this machine (engine/path-profile.ts)
 * when asked (serve asks, with `--engine auto`; classify's batches are full); otherwise the rule that needs no
 * measurement: a single row of a small network takes the chain, every other batch the graph.
 */
import { isSmallNetwork, PATH_PROFILE_SIZES, profilePaths, type Engine, type PathProfile } from '../engine';

export interface PathChoice {
  /** Batches of at least this many rows take the one graph (when it can route them); smaller ones the chain. */
  readonly graphFrom: number;
  /** measured: at load (profilePaths); default: the rule without a measurement; given: by the caller. */
  readonly source: 'measured' | 'default' | 'given';
  /** The measurement, when measured. */
  readonly profile?: PathProfile;
}

/** measureUpTo: profile both paths at load, at the profile's sizes up to the largest batch served; graphFrom: given. */
export type PathOption = { measureUpTo: number } | { graphFrom: number };

/**
 * Without a measurement: one row of a small network (engine isSmallNetwork) takes the chain, where it
 * was measured faster on the shipped bundles (single-thread sessions, the router in JavaScript
 * between stages; benchmarks/results/speed.md); a large network's row takes the graph.
 */
export function defaultPathChoice(engine: Engine): PathChoice {
  return { graphFrom: isSmallNetwork(engine.bundle) ? 2 : 1, source: 'default' };
}

export async function choosePaths(engine: Engine, option?: PathOption): Promise<PathChoice> {
  if (option === undefined) return defaultPathChoice(engine);
  if ('graphFrom' in option) return { graphFrom: Math.max(1, option.graphFrom), source: 'given' };
  const sizes = PATH_PROFILE_SIZES.filter((n) => n <= option.measureUpTo);
  const profile = await profilePaths(engine, { sizes });
  return profile ? { graphFrom: profile.graphFrom, source: 'measured', profile } : defaultPathChoice(engine);
}

/** One line for the log: where the crossover lies and what it rests on. */
export function describePaths(choice: PathChoice): string {
  const p = choice.profile;
  const rows = choice.graphFrom === 1 ? 'every batch' : `batches of ${choice.graphFrom} rows or more`;
  const detail = p
    ? ` (CPU ms per row, graph / chain: ${p.sizes.map((n, i) => `${n} rows ${fmt(p.graphMs[i])} / ${fmt(p.chainMs[i])}`).join(', ')})`
    : '';
  return `engine paths (${choice.source}): the one graph for ${rows}, the stage chain below${detail}`;
}

const fmt = (x: number | undefined): string => (x === undefined ? '?' : x.toFixed(3));

/**
 * What made a folder run's rows: model, budget, rule, score and cost unit.
 * Every row records them, so that a resume (or a merge) with other ones is
 * refused instead of mixing rows of two rules in one file.
 */
import { createHash } from 'node:crypto';
import { DEFAULTS } from '../../config';
import type { LoadedModel, RoutingRequest } from '../../pipeline';

export interface RunSettings {
  model: string;
  /** B as a fraction of the full model. */
  budget: number;
  /** How exits are chosen, with what decides them: "eero beta 0.04", "certified agreement 0.99 delta 0.05". */
  rule: string;
  score: string;
  costUnit: string;
}

const NAMES: Record<keyof RunSettings, string> = {
  model: 'model',
  budget: 'budget',
  rule: 'rule',
  score: 'score',
  costUnit: 'cost unit',
};
const FIELDS = Object.keys(NAMES) as Array<keyof RunSettings>;

function ruleText(rule: string, d: Readonly<RoutingRequest>, ledger: boolean, deadlineMs: number | undefined): string {
  const parts: string[] = [rule];
  if (rule === 'certified' && d.guarantee) parts.push(...Object.entries(d.guarantee).map(([k, v]) => `${k} ${String(v)}`));
  else if (rule === 'accuracy-target') parts.push(String(d.accuracyTarget));
  else if (rule === 'pinned') {
    // The thresholds themselves, briefly: two policy files with the same budget and score may pin different ones.
    parts.push(`thresholds ${createHash('sha256').update(JSON.stringify(d.thresholds)).digest('hex').slice(0, 8)}`);
  } else parts.push(`beta ${d.beta ?? DEFAULTS.beta}`);
  if (deadlineMs !== undefined) parts.push(`deadline ${deadlineMs} ms`);
  if (!ledger) parts.push('no ledger');
  return parts.join(' ');
}

export function runSettingsOf(model: LoadedModel): RunSettings {
  const choice = model.routing.choose({});
  return {
    model: model.name,
    budget: model.routing.limitFraction,
    rule: ruleText(choice.rule, model.routing.defaults, model.routing.ledger !== undefined, choice.deadlineMs),
    score: choice.policy.scoring.score,
    costUnit: model.costs.unit,
  };
}

const same = (k: keyof RunSettings, a: RunSettings, b: RunSettings): boolean =>
  k === 'budget' ? Math.abs(a.budget - b.budget) <= 1e-9 : a[k] === b[k];

/** The settings on which `b` differs from `a`. */
export function differences(a: RunSettings, b: RunSettings): Array<keyof RunSettings> {
  return FIELDS.filter((k) => !same(k, a, b));
}

/** "model m at budget 0.5, rule eero beta 0.04, score margin, cost unit macs" ("(none)" for a value not recorded). */
export function describeRun(r: RunSettings): string {
  const v = (k: keyof RunSettings): string => (r[k] === '' ? '(none)' : String(r[k]));
  return `model ${v('model')} at budget ${v('budget')}, rule ${v('rule')}, score ${v('score')}, cost unit ${v('costUnit')}`;
}

/** "score margin (the other: entropy)", for each difference. */
export function describeDifferences(ours: RunSettings, theirs: RunSettings): string {
  return differences(ours, theirs)
    .map((k) => `${NAMES[k]} ${String(ours[k]) || '(none)'} (the other: ${String(theirs[k]) || '(none)'})`)
    .join(', ');
}

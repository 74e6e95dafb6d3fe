/** The words beside a classified image's answer (no DOM): why it stopped where it did, and what it saved. */
import type { ClassifyJson } from './answer-json';
import { fmt } from './format';

const WHY: Record<string, (k: number) => string> = {
  confidence: (k) => 'Stopped at exit ' + k + ': its score cleared the threshold for this budget, so the later exits were not run.',
  ledger: (k) => 'Forced out at exit ' + k + ' by the budget ledger: going on would have spent more than the budget allows.',
  deadline: (k) => 'Forced out at exit ' + k + ' by the request deadline.',
  'last-exit': (k) => 'Ran to the last exit (' + k + '): no earlier exit was confident enough.',
};

export function why(a: Pick<ClassifyJson, 'stoppedBy' | 'exit'>): string {
  return (WHY[a.stoppedBy] ?? ((k: number) => 'Stopped at exit ' + k + ' (' + a.stoppedBy + ').'))(a.exit);
}

/** "Exits 4–8 not run: 62.0% of the full model saved." or, at the last exit, that every exit ran. */
export function restNote(a: Pick<ClassifyJson, 'exit' | 'exits' | 'cost'>): string {
  if (a.exit >= a.exits) return "Every exit ran: the full model's cost.";
  const next = a.exit + 1;
  return (
    'Exits ' + next + (next < a.exits ? '–' + a.exits : '') + ' not run: ' + fmt.pct(1 - a.cost.fraction) + ' of the full model saved.'
  );
}

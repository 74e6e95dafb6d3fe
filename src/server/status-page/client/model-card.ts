/**
 * One card per model, built once from the boot data and then updated in place on every poll. Every number
 * also lands in a data-value attribute, unformatted, so the browser test compares values, not locales.
 */
import type { BootModel } from './boot';
import { budgetSection } from './budget-gauge';
import { el, setValue } from './dom';
import { exitTable } from './exit-table';
import { fmt } from './format';
import { trafficSection } from './traffic-tiles';
import type { ModelView } from './views';

export interface ModelCard {
  desc: BootModel;
  card: HTMLElement;
  update(view: ModelView): void;
}

const costUnitName = (unit: string): string => (unit === 'macs' ? 'MACs' : unit);

export function buildModelCard(desc: BootModel, index: number): ModelCard {
  const unit = costUnitName(desc.costUnit);
  const id = 'm' + index;
  const card = el('section', { class: 'card model', 'data-model': desc.name, 'aria-labelledby': id + '-h' });
  const h = el('h2', { id: id + '-h' }, desc.name);
  h.append(el('span', { class: 'badge ' + (desc.ready ? 'ok' : 'warn') }, desc.ready ? 'ready' : 'warming up'));
  const version = el('span', { 'data-field': 'thresholds' }, '—');
  const sub = el('p', { class: 'sub' });
  sub.append(
    (desc.architecture ? desc.architecture + ' · ' : '') +
      desc.exits.length +
      ' exits · full model ' +
      fmt.si(desc.fullMacs, unit) +
      ' · rule ' +
      desc.budget.rule +
      ' · ledger ' +
      (desc.budget.ledger ? 'on' : 'off') +
      ' · thresholds v',
    version,
  );
  const sections = [budgetSection(unit), trafficSection(unit), exitTable(desc)];
  card.append(h, sub, ...sections.flatMap((s) => s.nodes));

  function update(v: ModelView): void {
    setValue(version, v.thresholdsVersion, v.thresholdsVersion === undefined ? '—' : String(v.thresholdsVersion));
    for (const s of sections) s.update(v);
  }

  return { desc, card, update };
}

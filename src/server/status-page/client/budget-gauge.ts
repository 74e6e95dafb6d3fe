/** A model card's budget part: the realised ratio against its target as a gauge, a legend in words, a sparkline. */
import { el, setValue, type Section } from './dom';
import { fmt } from './format';
import { sparkline } from './sparkline';
import type { ModelView } from './views';

/** A legend entry: an optional colour key, a name and its value. */
function legendItem(legend: HTMLElement, key: string, label: string, field: string): { value: HTMLElement; name: HTMLElement } {
  const value = el('b', { 'data-field': field }, '—');
  const name = el('span', {}, label);
  const span = el('span', {});
  if (key) span.append(el('i', { class: 'key ' + key, 'aria-hidden': 'true' }));
  span.append(name, ' ', value);
  legend.append(span);
  return { value, name };
}

export function budgetSection(unit: string): Section<ModelView> {
  const fill = el('div', { class: 'fill' });
  const mark = el('div', { class: 'mark' });
  const gauge = el('div', { class: 'gauge', role: 'img' });
  gauge.append(fill, mark);
  const legend = el('p', { class: 'legend' });
  const realised = legendItem(legend, 'realised', 'Realised', 'realised').value;
  const target = legendItem(legend, 'target', 'Target', 'target').value;
  const recent = legendItem(legend, '', 'Recent', 'realised-window');
  const credit = legendItem(legend, '', 'Ledger credit', 'credit').value;
  const spark = sparkline();
  const nodes = [
    el('h3', {}, 'Budget: average cost per image, % of the full model'),
    gauge,
    legend,
    spark.svg,
    el('p', { class: 'sub' }, 'Line: the recent realised ratio at each of the last 120 polls; dashed: the target.'),
  ];

  function update(v: ModelView): void {
    setValue(realised, v.realised, v.realised === null ? 'no images yet' : fmt.pct(v.realised));
    setValue(target, v.target, fmt.pct(v.target));
    const w = v.window;
    setValue(recent.value, w === null ? null : w.realised, w === null ? '—' : w.realised === null ? 'no images' : fmt.pct(w.realised));
    recent.name.textContent = w === null ? 'Recent' : 'Last ' + fmt.int(w.seconds) + ' s';
    setValue(credit, v.credit, v.credit === undefined ? '—' : fmt.si(v.credit, unit));
    fill.style.setProperty('--w', Math.min(100, (v.realised || 0) * 100) + '%');
    fill.classList.toggle('over', v.realised !== null && v.realised > v.target + 0.005);
    mark.style.setProperty('--x', Math.min(100, v.target * 100) + '%');
    spark.push(w === null ? null : w.realised, v.target);
    gauge.setAttribute('aria-label', 'realised ' + fmt.pct(v.realised) + ' of the full model against a target of ' + fmt.pct(v.target));
  }

  return { nodes, update };
}

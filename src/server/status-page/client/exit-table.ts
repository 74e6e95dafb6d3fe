/** A model card's exit histogram: per exit its cost, a bar, the count, the share and the agreement with the full model. */
import type { BootModel } from './boot';
import { el, setValue, type Section } from './dom';
import { fmt } from './format';
import type { ModelView } from './views';

interface ExitRow {
  exit: number;
  bar: HTMLElement;
  count: HTMLElement;
  share: HTMLElement;
  agrees: HTMLElement;
}

const COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['Exit', ''],
  ['Cost', 'r'],
  ['Images', ''],
  ['Count', 'r'],
  ['Share', 'r'],
  ['Agreement', 'r'],
];

function exitRow(body: HTMLElement, e: BootModel['exits'][number]): ExitRow {
  const tr = el('tr', { 'data-exit': String(e.exit) });
  const fill = el('span', {});
  const bar = el('div', { class: 'bar', 'aria-hidden': 'true' }, fill);
  const count = el('td', { class: 'r', 'data-field': 'count' }, '0');
  const share = el('td', { class: 'r', 'data-field': 'share' }, '—');
  const agrees = el('td', { class: 'r', 'data-field': 'agreement' }, '—');
  tr.append(
    el('th', { scope: 'row' }, String(e.exit)),
    el('td', { class: 'r' }, fmt.pct(e.fraction, 0)),
    el('td', {}, bar),
    count,
    share,
    agrees,
  );
  body.append(tr);
  return { exit: e.exit, bar: fill, count, share, agrees };
}

export function exitTable(desc: BootModel): Section<ModelView> {
  const table = el('table', { class: 'hist' });
  const caption = 'Images per exit for ' + desc.name + ", with each exit's cost and its agreement with the full model";
  table.append(el('caption', { class: 'vh' }, caption));
  const head = el('tr', {});
  for (const [t, c] of COLUMNS) head.append(el('th', { class: c, scope: 'col' }, t));
  table.append(el('thead', {}, head));
  const body = el('tbody', {});
  const rows = desc.exits.map((e) => exitRow(body, e));
  table.append(body);

  function update(v: ModelView): void {
    const max = Math.max(1, ...rows.map((r) => v.byExit[r.exit] || 0));
    for (const r of rows) {
      const n = v.byExit[r.exit] || 0;
      setValue(r.count, n, fmt.int(n));
      setValue(r.share, v.images > 0 ? n / v.images : null, v.images > 0 ? fmt.pct(n / v.images) : '—');
      r.bar.style.setProperty('--w', (100 * n) / max + '%');
      const ag = v.agreementByExit[r.exit];
      setValue(
        r.agrees,
        ag ? ag.ratio : null,
        ag ? fmt.pct(ag.ratio, 0) + (ag.samples !== undefined ? ' of ' + fmt.int(ag.samples) : '') : '—',
      );
      r.agrees.title = ag && ag.lower !== undefined ? 'Wilson 95%: ' + fmt.pct(ag.lower) + ' – ' + fmt.pct(ag.upper) : '';
    }
  }

  return { nodes: [el('h3', {}, 'Exit histogram'), table], update };
}

/** A model card's traffic part: images, throughput, forced exits, agreement, queue and batch, each a value and a note. */
import { el, setValue, type Section } from './dom';
import { fmt } from './format';
import type { Agreement, ModelView } from './views';

interface Tile {
  dd: HTMLElement;
  note: HTMLElement;
}

function tile(dl: HTMLElement, title: string, field: string): Tile {
  const box = el('div', { class: 'tile' });
  box.append(el('dt', {}, title));
  const dd = el('dd', { 'data-field': field }, '—');
  const note = el('span', { class: 'note', 'data-field': field + '-note' });
  box.append(dd, note);
  dl.append(box);
  return { dd, note };
}

function forcedNote(v: ModelView): string {
  const reasons = Object.keys(v.forcedByReason)
    .sort()
    .map((r) => r + ' ' + fmt.int(v.forcedByReason[r] ?? 0));
  return (v.images > 0 ? fmt.pct(v.forced / v.images) + ' of images' : '') + (reasons.length ? ' · ' + reasons.join(' · ') : '');
}

function agreementNote(a: Agreement | null, agreementTarget: number | undefined): string {
  const promise = agreementTarget === undefined ? '' : 'promised ' + fmt.pct(agreementTarget);
  const parts =
    a === null
      ? ['the monitor has not compared an answer with the full model yet', promise]
      : [
          a.lower !== undefined && a.upper !== undefined ? 'Wilson 95% ' + fmt.pct(a.lower) + ' – ' + fmt.pct(a.upper) : '',
          a.samples !== undefined ? fmt.int(a.samples) + ' samples' : '',
          promise,
        ];
  return parts.filter((p) => p !== '').join(' · ');
}

export function trafficSection(unit: string): Section<ModelView> {
  const dl = el('dl', { class: 'tiles' });
  const images = tile(dl, 'Images classified', 'images');
  const rate = tile(dl, 'Throughput', 'rate');
  const forced = tile(dl, 'Forced exits', 'forced');
  const agreement = tile(dl, 'Agreement with the full model', 'agreement');
  const queue = tile(dl, 'Queue', 'queue');
  const batch = tile(dl, 'Average batch', 'batch');

  function update(v: ModelView): void {
    const w = v.window;
    setValue(images.dd, v.images, fmt.int(v.images));
    images.note.textContent = v.macs > 0 ? fmt.si(v.macs, unit) + ' spent' : '';
    setValue(rate.dd, w === null ? null : w.imagesPerSecond, w === null ? '—' : fmt.rate(w.imagesPerSecond) + ' img/s');
    rate.note.textContent = w === null ? 'after the next poll' : 'over the last ' + fmt.int(w.seconds) + ' s';
    setValue(forced.dd, v.forced, fmt.int(v.forced));
    forced.note.textContent = forcedNote(v);
    const a = v.agreement;
    setValue(agreement.dd, a === null ? null : a.ratio, a === null ? 'no samples yet' : fmt.pct(a.ratio));
    agreement.dd.classList.toggle('words', a === null);
    // Below the promise only when even the upper Wilson bound is (what the EeroAgreementLow alert means).
    const low = a !== null && v.agreementTarget !== undefined && a.upper !== undefined && a.upper < v.agreementTarget;
    agreement.dd.classList.toggle('low', low);
    agreement.note.textContent = agreementNote(a, v.agreementTarget);
    setValue(queue.dd, v.queue, v.queue === undefined ? '—' : fmt.int(v.queue) + ' images');
    queue.note.textContent = 'waiting for the engine';
    setValue(batch.dd, v.avgBatch, v.avgBatch === undefined ? '—' : fmt.rate(v.avgBatch) + ' images');
    batch.note.textContent = 'per engine run, since start';
  }

  return { nodes: [el('h3', {}, 'Traffic'), dl], update };
}

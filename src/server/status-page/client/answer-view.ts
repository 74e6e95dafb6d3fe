/** A classified image's answer: the image, its label and exit, why it stopped there, and the score at each exit passed. */
import type { ClassifyJson, TraceRow } from './answer-json';
import { restNote, why } from './answer-text';
import { byId, el } from './dom';
import { fmt } from './format';

function traceRow(t: TraceRow, a: ClassifyJson): HTMLTableRowElement {
  const stop = t.exit === a.exit;
  const tr = el('tr', { 'data-exit': String(t.exit), class: stop ? 'stop' : '' });
  const fill = el('span', {});
  fill.style.setProperty('--w', Math.max(0, Math.min(1, t.score)) * 100 + '%');
  const bar = el('div', { class: 'bar', 'aria-hidden': 'true' }, fill);
  const exitCell = el('th', { scope: 'row' }, String(t.exit));
  if (stop) exitCell.append(el('span', { class: 'badge ' + (a.forced ? 'warn' : 'ok') }, a.stoppedBy));
  const score = el('td', { class: 'r', 'data-field': 'score' }, t.score.toFixed(3));
  tr.append(exitCell, score, el('td', {}, bar), el('td', {}, t.label), el('td', { class: 'r' }, fmt.pct(t.probability)));
  return tr;
}

/** Shows answers in #result; keeps one object URL for the preview and revokes it when the next answer comes. */
export function answerView(result: HTMLElement): (file: File, a: ClassifyJson) => void {
  let preview: string | null = null;
  return (file, a) => {
    if (preview) URL.revokeObjectURL(preview);
    preview = URL.createObjectURL(file);
    const img = byId('r-img', HTMLImageElement);
    img.src = preview;
    img.alt = 'The image classified: ' + file.name;
    byId('r-label', HTMLElement).textContent = a.label;
    byId('r-prob', HTMLElement).textContent = fmt.pct(a.probability) + ' probability';
    byId('r-exit', HTMLElement).textContent = String(a.exit);
    byId('r-exits', HTMLElement).textContent = String(a.exits);
    byId('r-cost', HTMLElement).textContent = fmt.pct(a.cost.fraction);
    const b = a.budget;
    byId('r-budget', HTMLElement).textContent =
      'budget ' + fmt.pct(b.requested) + ' (limit ' + fmt.pct(b.limit) + ', rule ' + b.rule + ', thresholds v' + b.thresholdsVersion + ')';
    const whyNode = byId('r-why', HTMLElement);
    whyNode.textContent = why(a);
    whyNode.classList.toggle('forced', a.forced);
    const tbody = document.querySelector('#trace tbody');
    if (!tbody) throw new Error('status page: #trace has no tbody');
    tbody.replaceChildren(...(a.trace ?? []).map((t) => traceRow(t, a)));
    byId('r-rest', HTMLElement).textContent = restNote(a);
    const t = a.timings;
    byId('r-timings', HTMLElement).textContent =
      'queue ' +
      fmt.ms(t.queueMs) +
      ' · preprocess ' +
      fmt.ms(t.preprocessMs) +
      ' · inference ' +
      fmt.ms(t.inferenceMs) +
      ' · batch of ' +
      t.batchSize;
    byId('r-json', HTMLElement).textContent = JSON.stringify(a, null, 2);
    result.hidden = false;
    result.dataset.state = 'done';
  };
}

/**
 * Browser code (a string, see document.ts): one card per model, built once from the boot data and then
 * updated in place on every poll (textContent only: labels and names are data, never markup). Every number
 * also lands in a data-value attribute, unformatted, so the browser test compares values, not locales.
 * Runs inside the page script's scope, where lib (client-lib) and el (a tiny element builder) are defined.
 */
export const STATUS_PAGE_MODELS = String.raw`
function costUnitName(unit) {
  return unit === 'macs' ? 'MACs' : unit;
}

function tile(dl, title, field) {
  const box = el('div', { class: 'tile' });
  box.append(el('dt', {}, title));
  const dd = el('dd', { 'data-field': field }, '—');
  const note = el('span', { class: 'note', 'data-field': field + '-note' });
  box.append(dd, note);
  dl.append(box);
  return { dd, note };
}

function setValue(node, value, text) {
  node.dataset.value = value === undefined || value === null ? '' : String(value);
  node.textContent = text;
}

const SVG = 'http://www.w3.org/2000/svg';

/**
 * The recent realised ratio at each of the last 120 polls against the target: the budget, live. Decorative
 * (the legend says the same in words), so hidden from assistive technology. Gaps where no image came.
 */
function sparkline() {
  const W = 600;
  const H = 56;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('aria-hidden', 'true');
  const line = document.createElementNS(SVG, 'path');
  line.setAttribute('class', 'realised');
  const goal = document.createElementNS(SVG, 'path');
  goal.setAttribute('class', 'target');
  svg.append(goal, line);
  const points = [];
  function push(realised, target) {
    points.push(realised);
    if (points.length > 120) points.shift();
    const top = Math.min(1, Math.max(target * 1.4, ...points.filter((p) => p !== null).map((p) => p * 1.1)));
    const y = (r) => (H - 2 - ((H - 4) * r) / top).toFixed(1);
    // Spread over the width whatever the count, so a young page draws a readable line too.
    const x = (i) => ((W * i) / Math.max(1, points.length - 1)).toFixed(1);
    let d = '';
    let pen = false;
    points.forEach((p, i) => {
      if (p === null) pen = false;
      else {
        d += (pen ? 'L' : 'M') + x(i) + ' ' + y(p);
        pen = true;
      }
    });
    line.setAttribute('d', d);
    goal.setAttribute('d', 'M0 ' + y(target) + 'H' + W);
  }
  return { svg, push };
}

function buildModelCard(desc, index) {
  const { fmt } = lib;
  const unit = costUnitName(desc.costUnit);
  const id = 'm' + index;
  const card = el('section', { class: 'card model', 'data-model': desc.name, 'aria-labelledby': id + '-h' });
  const h = el('h2', { id: id + '-h' }, desc.name);
  const ready = el('span', { class: 'badge ' + (desc.ready ? 'ok' : 'warn') }, desc.ready ? 'ready' : 'warming up');
  h.append(ready);
  const version = el('span', { 'data-field': 'thresholds' }, '—');
  const sub = el('p', { class: 'sub' });
  sub.append(
    (desc.architecture ? desc.architecture + ' · ' : '') + desc.exits.length + ' exits · full model ' + fmt.si(desc.fullMacs, unit) +
      ' · rule ' + desc.budget.rule + ' · ledger ' + (desc.budget.ledger ? 'on' : 'off') + ' · thresholds v',
    version,
  );
  card.append(h, sub);

  card.append(el('h3', {}, 'Budget: average cost per image, % of the full model'));
  const fill = el('div', { class: 'fill' });
  const mark = el('div', { class: 'mark' });
  const gauge = el('div', { class: 'gauge', role: 'img' });
  gauge.append(fill, mark);
  const legend = el('p', { class: 'legend' });
  const item = (key, label, field) => {
    const b = el('b', { 'data-field': field }, '—');
    const name = el('span', {}, label);
    const span = el('span', {});
    if (key) span.append(el('i', { class: 'key ' + key, 'aria-hidden': 'true' }));
    span.append(name, ' ', b);
    legend.append(span);
    return [b, name];
  };
  const [realised] = item('realised', 'Realised', 'realised');
  const [target] = item('target', 'Target', 'target');
  const [recent, recentLabel] = item('', 'Recent', 'realised-window');
  const [credit] = item('', 'Ledger credit', 'credit');
  const spark = sparkline();
  card.append(gauge, legend, spark.svg, el('p', { class: 'sub' }, 'Line: the recent realised ratio at each of the last 120 polls; dashed: the target.'));

  card.append(el('h3', {}, 'Traffic'));
  const dl = el('dl', { class: 'tiles' });
  const images = tile(dl, 'Images classified', 'images');
  const rate = tile(dl, 'Throughput', 'rate');
  const forced = tile(dl, 'Forced exits', 'forced');
  const agreement = tile(dl, 'Agreement with the full model', 'agreement');
  const queue = tile(dl, 'Queue', 'queue');
  const batch = tile(dl, 'Average batch', 'batch');
  card.append(dl);

  card.append(el('h3', {}, 'Exit histogram'));
  const table = el('table', { class: 'hist' });
  table.append(el('caption', { class: 'vh' }, 'Images per exit for ' + desc.name + ', with each exit\'s cost and its agreement with the full model'));
  const head = el('tr', {});
  const columns = [['Exit', ''], ['Cost', 'r'], ['Images', ''], ['Count', 'r'], ['Share', 'r'], ['Agreement', 'r']];
  for (const [t, c] of columns) head.append(el('th', { class: c, scope: 'col' }, t));
  table.append(el('thead', {}, head));
  const body = el('tbody', {});
  const rows = desc.exits.map((e) => {
    const tr = el('tr', { 'data-exit': String(e.exit) });
    const bar = el('div', { class: 'bar', 'aria-hidden': 'true' }, el('span', {}));
    const count = el('td', { class: 'r', 'data-field': 'count' }, '0');
    const share = el('td', { class: 'r', 'data-field': 'share' }, '—');
    const agrees = el('td', { class: 'r', 'data-field': 'agreement' }, '—');
    tr.append(el('th', { scope: 'row' }, String(e.exit)), el('td', { class: 'r' }, fmt.pct(e.fraction, 0)), el('td', {}, bar), count, share, agrees);
    body.append(tr);
    return { exit: e.exit, bar: bar.firstChild, count, share, agrees };
  });
  table.append(body);
  card.append(table);

  function update(v) {
    setValue(version, v.thresholdsVersion, v.thresholdsVersion === undefined ? '—' : String(v.thresholdsVersion));
    setValue(realised, v.realised, v.realised === null ? 'no images yet' : fmt.pct(v.realised));
    setValue(target, v.target, fmt.pct(v.target));
    const w = v.window;
    setValue(recent, w && w.realised, w === null ? '—' : w.realised === null ? 'no images' : fmt.pct(w.realised));
    recentLabel.textContent = w === null ? 'Recent' : 'Last ' + fmt.int(w.seconds) + ' s';
    setValue(credit, v.credit, v.credit === undefined ? '—' : fmt.si(v.credit, unit));
    fill.style.setProperty('--w', Math.min(100, (v.realised || 0) * 100) + '%');
    fill.classList.toggle('over', v.realised !== null && v.realised > v.target + 0.005);
    mark.style.setProperty('--x', Math.min(100, v.target * 100) + '%');
    spark.push(w && w.realised, v.target);
    gauge.setAttribute('aria-label', 'realised ' + fmt.pct(v.realised) + ' of the full model against a target of ' + fmt.pct(v.target));

    setValue(images.dd, v.images, fmt.int(v.images));
    images.note.textContent = v.macs > 0 ? fmt.si(v.macs, unit) + ' spent' : '';
    setValue(rate.dd, w && w.imagesPerSecond, w === null ? '—' : fmt.rate(w.imagesPerSecond) + ' img/s');
    rate.note.textContent = w === null ? 'after the next poll' : 'over the last ' + fmt.int(w.seconds) + ' s';
    setValue(forced.dd, v.forced, fmt.int(v.forced));
    const reasons = Object.keys(v.forcedByReason).sort().map((r) => r + ' ' + fmt.int(v.forcedByReason[r]));
    forced.note.textContent = (v.images > 0 ? fmt.pct(v.forced / v.images) + ' of images' : '') + (reasons.length ? ' · ' + reasons.join(' · ') : '');
    const a = v.agreement;
    const promise = v.agreementTarget === undefined ? '' : 'promised ' + fmt.pct(v.agreementTarget);
    setValue(agreement.dd, a && a.ratio, a === null ? 'no samples yet' : fmt.pct(a.ratio));
    agreement.dd.classList.toggle('words', a === null);
    // Below the promise only when even the upper Wilson bound is (what the EeroAgreementLow alert means).
    agreement.dd.classList.toggle('low', a !== null && v.agreementTarget !== undefined && a.upper !== undefined && a.upper < v.agreementTarget);
    const parts =
      a === null
        ? ['the monitor has not compared an answer with the full model yet', promise]
        : [
            a.lower !== undefined && a.upper !== undefined ? 'Wilson 95% ' + fmt.pct(a.lower) + ' – ' + fmt.pct(a.upper) : '',
            a.samples !== undefined ? fmt.int(a.samples) + ' samples' : '',
            promise,
          ];
    agreement.note.textContent = parts.filter((p) => p !== '').join(' · ');
    setValue(queue.dd, v.queue, v.queue === undefined ? '—' : fmt.int(v.queue) + ' images');
    queue.note.textContent = 'waiting for the engine';
    setValue(batch.dd, v.avgBatch, v.avgBatch === undefined ? '—' : fmt.rate(v.avgBatch) + ' images');
    batch.note.textContent = 'per engine run, since start';

    const max = Math.max(1, ...rows.map((r) => v.byExit[r.exit] || 0));
    for (const r of rows) {
      const n = v.byExit[r.exit] || 0;
      setValue(r.count, n, fmt.int(n));
      setValue(r.share, v.images > 0 ? n / v.images : null, v.images > 0 ? fmt.pct(n / v.images) : '—');
      r.bar.style.setProperty('--w', (100 * n) / max + '%');
      const ag = v.agreementByExit[r.exit];
      setValue(r.agrees, ag && ag.ratio, ag ? fmt.pct(ag.ratio, 0) + (ag.samples !== undefined ? ' of ' + fmt.int(ag.samples) : '') : '—');
      r.agrees.title = ag && ag.lower !== undefined ? 'Wilson 95%: ' + fmt.pct(ag.lower) + ' – ' + fmt.pct(ag.upper) : '';
    }
  }

  return { desc, card, update };
}

function updateService(view) {
  const { fmt } = lib;
  const put = (field, value, text) => {
    const node = document.querySelector('#service [data-field="' + field + '"]');
    setValue(node, value, text);
    node.classList.toggle('words', !/^[≈>\d]/.test(text));
  };
  const quantile = (q) => (q === undefined ? '—' : (q.above ? '> ' : '≈ ') + fmt.seconds(q.seconds));
  document.getElementById('s-window').textContent = view === null ? 'two polls' : fmt.int(view.seconds) + ' s';
  if (view === null) return;
  const none = view.requests === 0;
  put('p50', view.p50 && view.p50.seconds, none ? 'no requests' : quantile(view.p50));
  put('p99', view.p99 && view.p99.seconds, none ? 'no requests' : quantile(view.p99));
  put('rps', view.perSecond, fmt.rate(view.perSecond) + ' req/s');
  put('errors', view.errors, fmt.int(view.errors));
}
`;

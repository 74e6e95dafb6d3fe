/**
 * Browser code (a string, see document.ts): the drop zone. The file goes as the raw body of
 * POST v1/classify?trace=1 (no multipart: the answer is then one image's JSON, trace included), and the
 * answer is shown as the score at each exit passed, where the image stopped and why.
 */
export const STATUS_PAGE_CLASSIFY = String.raw`
const WHY = {
  confidence: (k) => 'Stopped at exit ' + k + ': its score cleared the threshold for this budget, so the later exits were not run.',
  ledger: (k) => 'Forced out at exit ' + k + ' by the budget ledger: going on would have spent more than the budget allows.',
  deadline: (k) => 'Forced out at exit ' + k + ' by the request deadline.',
  'last-exit': (k) => 'Ran to the last exit (' + k + '): no earlier exit was confident enough.',
};

function initClassify(boot) {
  const { fmt } = lib;
  const byName = new Map(boot.models.map((m) => [m.name, m]));
  const select = document.getElementById('c-model');
  const budget = document.getElementById('c-budget');
  const input = document.getElementById('c-file');
  const drop = document.getElementById('drop');
  const status = document.getElementById('c-status');
  const result = document.getElementById('result');
  let preview = null;

  for (const m of boot.models) select.append(el('option', { value: m.name }, m.name));
  select.value = boot.defaultModel;
  const onModel = () => {
    const m = byName.get(select.value);
    if (!m) return;
    budget.min = String(Math.ceil(m.feasibleBudget.min * 100) / 100);
    budget.max = String(m.feasibleBudget.max);
    budget.placeholder = String(m.budget.limit);
  };
  select.addEventListener('change', onModel);
  onModel();

  input.addEventListener('change', () => {
    const file = input.files && input.files[0];
    if (file) void classify(file);
    input.value = '';
  });
  for (const type of ['dragenter', 'dragover']) {
    drop.addEventListener(type, (e) => {
      e.preventDefault();
      drop.classList.add('over');
    });
  }
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = e.dataTransfer && e.dataTransfer.files[0];
    if (file) void classify(file);
    else say('Drop an image file (PNG, JPEG, WebP, GIF or TIFF).', true);
  });
  // A file dropped beside the zone would otherwise replace the page with the image.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle('alert', Boolean(isError));
  }

  async function classify(file) {
    if (file.size > boot.bodyBytes) {
      say(file.name + ' is ' + fmt.si(file.size, 'B') + ', over the service limit of ' + fmt.si(boot.bodyBytes, 'B') + '.', true);
      return;
    }
    const q = new URLSearchParams({ trace: '1', model: select.value });
    if (budget.value.trim() !== '') q.set('budget', budget.value.trim());
    result.dataset.state = 'busy';
    say('Classifying ' + file.name + '…');
    try {
      const res = await fetch('v1/classify?' + q.toString(), {
        method: 'POST',
        body: file,
        headers: { 'content-type': file.type || 'application/octet-stream' },
      });
      const body = await res.json().catch(() => null);
      if (!res.ok || !body || body.error) {
        const e = (body && body.error) || { code: 'HTTP_' + res.status, message: res.statusText };
        result.dataset.state = 'error';
        say(file.name + ': ' + e.code + ' (' + res.status + '): ' + e.message, true);
        return;
      }
      show(file, body);
      say(file.name + ': ' + body.label + ' at exit ' + body.exit + ' of ' + body.exits + '.');
    } catch (err) {
      result.dataset.state = 'error';
      say('The service did not answer: ' + (err && err.message ? err.message : String(err)), true);
    }
  }

  function show(file, a) {
    if (preview) URL.revokeObjectURL(preview);
    preview = URL.createObjectURL(file);
    const img = document.getElementById('r-img');
    img.src = preview;
    img.alt = 'The image classified: ' + file.name;
    document.getElementById('r-label').textContent = a.label;
    document.getElementById('r-prob').textContent = fmt.pct(a.probability) + ' probability';
    document.getElementById('r-exit').textContent = String(a.exit);
    document.getElementById('r-exits').textContent = String(a.exits);
    document.getElementById('r-cost').textContent = fmt.pct(a.cost.fraction);
    const b = a.budget || {};
    document.getElementById('r-budget').textContent =
      'budget ' + fmt.pct(b.requested) + ' (limit ' + fmt.pct(b.limit) + ', rule ' + b.rule + ', thresholds v' + b.thresholdsVersion + ')';
    const why = document.getElementById('r-why');
    why.textContent = (WHY[a.stoppedBy] || ((k) => 'Stopped at exit ' + k + ' (' + a.stoppedBy + ').'))(a.exit);
    why.classList.toggle('forced', Boolean(a.forced));

    const tbody = document.querySelector('#trace tbody');
    tbody.replaceChildren();
    for (const t of a.trace || []) {
      const stop = t.exit === a.exit;
      const tr = el('tr', { 'data-exit': String(t.exit), class: stop ? 'stop' : '' });
      const bar = el('div', { class: 'bar', 'aria-hidden': 'true' }, el('span', {}));
      bar.firstChild.style.setProperty('--w', Math.max(0, Math.min(1, t.score)) * 100 + '%');
      const exitCell = el('th', { scope: 'row' }, String(t.exit));
      if (stop) exitCell.append(el('span', { class: 'badge ' + (a.forced ? 'warn' : 'ok') }, a.stoppedBy));
      tr.append(exitCell, el('td', { class: 'r', 'data-field': 'score' }, t.score.toFixed(3)), el('td', {}, bar), el('td', {}, t.label), el('td', { class: 'r' }, fmt.pct(t.probability)));
      tbody.append(tr);
    }
    document.getElementById('r-rest').textContent =
      a.exit < a.exits
        ? 'Exits ' + (a.exit + 1) + (a.exit + 1 < a.exits ? '–' + a.exits : '') + ' not run: ' + fmt.pct(1 - a.cost.fraction) + ' of the full model saved.'
        : 'Every exit ran: the full model\'s cost.';
    const t = a.timings || {};
    document.getElementById('r-timings').textContent =
      'queue ' + fmt.ms(t.queueMs) + ' · preprocess ' + fmt.ms(t.preprocessMs) + ' · inference ' + fmt.ms(t.inferenceMs) + ' · batch of ' + t.batchSize;
    document.getElementById('r-json').textContent = JSON.stringify(a, null, 2);
    result.hidden = false;
    result.dataset.state = 'done';
  }
}
`;

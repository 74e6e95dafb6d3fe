/**
 * The drop zone. The file goes as the raw body of POST v1/classify?trace=1 (no multipart: the answer is then
 * one image's JSON, trace included), and the answer is shown as the score at each exit passed, where the
 * image stopped and why.
 */
import type { ClassifyJson, ErrorJson } from './answer-json';
import { answerView } from './answer-view';
import type { StatusPageBoot } from './boot';
import { byId, el } from './dom';
import { fmt, messageOf } from './format';

/** The model picker: its options, and the budget field's bounds and placeholder for the chosen model. */
function initModelPicker(boot: StatusPageBoot, select: HTMLSelectElement, budget: HTMLInputElement): void {
  const byName = new Map(boot.models.map((m) => [m.name, m]));
  for (const m of boot.models) select.append(el('option', { value: m.name }, m.name));
  select.value = boot.defaultModel;
  const onModel = (): void => {
    const m = byName.get(select.value);
    if (!m) return;
    budget.min = String(Math.ceil(m.feasibleBudget.min * 100) / 100);
    budget.max = String(m.feasibleBudget.max);
    budget.placeholder = String(m.budget.limit);
  };
  select.addEventListener('change', onModel);
  onModel();
}

/** Calls onFile with a file chosen in the input or dropped on the zone; a drop without a file is an error. */
function initDropZone(input: HTMLInputElement, drop: HTMLElement, onFile: (file: File) => void, onNoFile: () => void): void {
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (file) onFile(file);
    input.value = '';
  });
  for (const type of ['dragenter', 'dragover'] as const) {
    drop.addEventListener(type, (e) => {
      e.preventDefault();
      drop.classList.add('over');
    });
  }
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) onFile(file);
    else onNoFile();
  });
  // A file dropped beside the zone would otherwise replace the page with the image.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
}

export function initClassify(boot: StatusPageBoot): void {
  const select = byId('c-model', HTMLSelectElement);
  const budget = byId('c-budget', HTMLInputElement);
  const status = byId('c-status', HTMLElement);
  const result = byId('result', HTMLElement);
  const show = answerView(result);
  initModelPicker(boot, select, budget);

  const say = (text: string, isError = false): void => {
    status.textContent = text;
    status.classList.toggle('alert', isError);
  };

  async function classify(file: File): Promise<void> {
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
      // The service's own answer: a ClassifyJson when ok, an ErrorJson otherwise (or no JSON at all).
      const body = (await res.json().catch(() => null)) as (ClassifyJson & ErrorJson) | null;
      if (!res.ok || !body || body.error) {
        const e = body?.error ?? { code: 'HTTP_' + res.status, message: res.statusText };
        result.dataset.state = 'error';
        say(file.name + ': ' + e.code + ' (' + res.status + '): ' + e.message, true);
        return;
      }
      show(file, body);
      say(file.name + ': ' + body.label + ' at exit ' + body.exit + ' of ' + body.exits + '.');
    } catch (err) {
      result.dataset.state = 'error';
      say('The service did not answer: ' + (messageOf(err) ?? String(err)), true);
    }
  }

  const onFile = (file: File): void => void classify(file);
  initDropZone(byId('c-file', HTMLInputElement), byId('drop', HTMLElement), onFile, () =>
    say('Drop an image file (PNG, JPEG, WebP, GIF or TIFF).', true),
  );
}

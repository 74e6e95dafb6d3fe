/**
 * The status page's script (bundled by scripts/build-status-page.ts, inlined by the server): start-up and the
 * poll loop. Every poll fetches /metrics, parses it and keeps it; rates and latency percentiles compare the
 * newest poll with the oldest one still within the window (30 s), so they are live without a Prometheus
 * server. Polls never overlap (the next is scheduled after one ends) and stop while the tab is hidden.
 * body[data-polls] counts the polls shown (tests wait on it). URLs are relative, so the page also works
 * behind a proxy that serves the service under a path prefix.
 */
import type { StatusPageBoot } from './boot';
import { initClassify } from './classify';
import { byId } from './dom';
import { fmt, messageOf } from './format';
import { buildModelCard } from './model-card';
import { snapshot, trimWindow, type Snapshot } from './prometheus';
import { updateService } from './service-view';
import { modelView, requestView } from './views';

const WINDOW_MS = 30000;
// The server's own boot data (document.ts writes it).
const boot = JSON.parse(byId('boot', HTMLScriptElement).textContent ?? 'null') as StatusPageBoot;
const requested = Number(new URLSearchParams(location.search).get('poll'));
const POLL_MS = Math.min(60000, Math.max(250, requested > 0 ? requested : boot.pollMs));
const cards = boot.models.map(buildModelCard);
byId('models', HTMLElement).replaceChildren(...cards.map((c) => c.card));
initClassify(boot);

const history: Snapshot[] = [];
let polls = 0;
let timer: ReturnType<typeof setTimeout> | null = null;
let running = false;
let lastOk: number | null = null;

function setLive(state: string, text: string): void {
  const live = byId('live', HTMLElement);
  if (live.dataset.state !== state) byId('live-state', HTMLElement).textContent = text;
  live.dataset.state = state;
}

function tick(): void {
  const ago =
    lastOk === null ? '' : 'updated ' + fmt.int((performance.now() - lastOk) / 1000) + ' s ago · every ' + fmt.seconds(POLL_MS / 1000);
  byId('live-ago', HTMLElement).textContent = ago;
}

async function poll(): Promise<void> {
  timer = null;
  if (running) return;
  running = true;
  try {
    const res = await fetch('metrics', { cache: 'no-store', headers: { accept: 'text/plain' } });
    if (!res.ok) throw new Error('/metrics answered ' + res.status);
    const snap = snapshot(await res.text(), performance.now());
    history.push(snap);
    trimWindow(history, WINDOW_MS);
    const prev = history.length > 1 ? (history[0] ?? null) : null;
    for (const c of cards) c.update(modelView(snap, prev, c.desc));
    updateService(requestView(snap, prev));
    lastOk = performance.now();
    polls += 1;
    document.body.dataset.polls = String(polls);
    setLive('live', 'Live');
  } catch (err) {
    setLive('offline', 'Offline: ' + (messageOf(err) ?? 'no answer') + '; retrying');
  }
  running = false;
  tick();
  if (!document.hidden && timer === null) timer = setTimeout(() => void poll(), POLL_MS);
}

document.addEventListener('visibilitychange', () => {
  if (document.hidden && timer !== null) {
    clearTimeout(timer);
    timer = null;
  } else if (!document.hidden && timer === null) {
    void poll();
  }
});
setInterval(tick, 1000);
void poll();

// An ES module (package.json says "commonjs"): without it esbuild wraps every module in CommonJS shims.
export {};

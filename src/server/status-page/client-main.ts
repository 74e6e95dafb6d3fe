/**
 * Browser code (a string, see document.ts): start-up and the poll loop. Every poll fetches /metrics, parses it
 * and keeps it; rates and latency percentiles compare the newest poll with the oldest one still within the
 * window (30 s), so they are live without a Prometheus server. Polls never overlap (the next is scheduled
 * after one ends) and stop while the tab is hidden. body[data-polls] counts the polls shown (tests wait on it).
 * URLs are relative, so the page also works behind a proxy that serves the service under a path prefix.
 */
export const STATUS_PAGE_MAIN = String.raw`
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const k in attrs) if (attrs[k] !== '') node.setAttribute(k, attrs[k]);
  node.append(...children);
  return node;
}

const WINDOW_MS = 30000;
const boot = JSON.parse(document.getElementById('boot').textContent);
const requested = Number(new URLSearchParams(location.search).get('poll'));
const POLL_MS = Math.min(60000, Math.max(250, requested > 0 ? requested : boot.pollMs));
const cards = boot.models.map(buildModelCard);
document.getElementById('models').replaceChildren(...cards.map((c) => c.card));
initClassify(boot);

const history = [];
let polls = 0;
let timer = null;
let running = false;
let lastOk = null;

function setLive(state, text) {
  const live = document.getElementById('live');
  if (live.dataset.state !== state) document.getElementById('live-state').textContent = text;
  live.dataset.state = state;
}

function tick() {
  const ago = lastOk === null ? '' : 'updated ' + lib.fmt.int((performance.now() - lastOk) / 1000) + ' s ago · every ' + lib.fmt.seconds(POLL_MS / 1000);
  document.getElementById('live-ago').textContent = ago;
}

async function poll() {
  timer = null;
  if (running) return;
  running = true;
  try {
    const res = await fetch('metrics', { cache: 'no-store', headers: { accept: 'text/plain' } });
    if (!res.ok) throw new Error('/metrics answered ' + res.status);
    const snap = lib.snapshot(await res.text(), performance.now());
    history.push(snap);
    // Keep the newest poll that is at least WINDOW_MS old as the window's start.
    while (history.length > 2 && snap.t - history[1].t >= WINDOW_MS) history.shift();
    const prev = history.length > 1 ? history[0] : null;
    for (const c of cards) c.update(lib.modelView(snap, prev, c.desc));
    updateService(lib.requestView(snap, prev));
    lastOk = performance.now();
    polls += 1;
    document.body.dataset.polls = String(polls);
    setLive('live', 'Live');
  } catch (err) {
    setLive('offline', 'Offline: ' + (err && err.message ? err.message : 'no answer') + '; retrying');
  }
  running = false;
  tick();
  if (!document.hidden && timer === null) timer = setTimeout(poll, POLL_MS);
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
`;

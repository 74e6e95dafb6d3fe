/** The "Classify requests" card: latency percentiles, requests per second and errors over the window. */
import { byId, setValue } from './dom';
import { fmt } from './format';
import type { Quantile } from './histogram';
import type { RequestView } from './views';

function put(field: string, value: number | null | undefined, text: string): void {
  const node = document.querySelector<HTMLElement>('#service [data-field="' + field + '"]');
  if (!node) throw new Error('status page: the service card has no ' + field + ' field');
  setValue(node, value, text);
  node.classList.toggle('words', !/^[≈>\d]/.test(text));
}

const quantile = (q: Quantile | undefined): string => (q === undefined ? '—' : (q.above ? '> ' : '≈ ') + fmt.seconds(q.seconds));

export function updateService(view: RequestView | null): void {
  byId('s-window', HTMLElement).textContent = view === null ? 'two polls' : fmt.int(view.seconds) + ' s';
  if (view === null) return;
  const none = view.requests === 0;
  put('p50', view.p50?.seconds, none ? 'no requests' : quantile(view.p50));
  put('p99', view.p99?.seconds, none ? 'no requests' : quantile(view.p99));
  put('rps', view.perSecond, fmt.rate(view.perSecond) + ' req/s');
  put('errors', view.errors, fmt.int(view.errors));
}

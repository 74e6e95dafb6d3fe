/** GET /: the status page (live budget, exits, agreement, throughput, latency and a drop zone), from status-page/. */
import type { Express } from 'express';
import { EeroError, toEeroError } from '../errors';
import { readStatusPageScript } from './status-page/client-asset';
import { renderStatusPage, statusPageCsp } from './status-page/document';
import type { AppDeps } from './server-types';

/** How often the page polls /metrics by default. */
const POLL_MS = 2000;

/** The page's script, read once here; a missing bundle leaves the API serving and answers `/` with its error. */
function loadScript(deps: AppDeps): { script: string; csp: string } | EeroError {
  try {
    const script = readStatusPageScript();
    return { script, csp: statusPageCsp(script) };
  } catch (e) {
    const error = toEeroError(e, 'IO_ERROR');
    deps.logger.warn(`status page off: ${error.message}`);
    return error;
  }
}

export function addStatusPage(app: Express, deps: AppDeps): void {
  const page = loadScript(deps);
  app.get('/', (_req, res) => {
    if (page instanceof EeroError) throw page;
    // Rendered per request: the boot data carries each model's readiness, which changes after start-up.
    const html = renderStatusPage(
      {
        defaultModel: deps.defaultModel,
        models: [...deps.models.values()].map((m) => ({ ...m.describe(), ready: m.ready })),
        pollMs: POLL_MS,
        bodyBytes: deps.limits.bodyBytes,
      },
      page.script,
    );
    res
      .set({
        'Content-Security-Policy': page.csp,
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
      })
      .type('html')
      .send(html);
  });
}

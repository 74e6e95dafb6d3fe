/** GET /: the status page (live budget, exits, agreement, throughput, latency and a drop zone), from status-page/. */
import type { Express } from 'express';
import { renderStatusPage, STATUS_PAGE_CSP } from './status-page/document';
import type { AppDeps } from './server-types';

/** How often the page polls /metrics by default. */
const POLL_MS = 2000;

export function addStatusPage(app: Express, deps: AppDeps): void {
  app.get('/', (_req, res) => {
    // Rendered per request: the boot data carries each model's readiness, which changes after start-up.
    const html = renderStatusPage({
      defaultModel: deps.defaultModel,
      models: [...deps.models.values()].map((m) => ({ ...m.describe(), ready: m.ready })),
      pollMs: POLL_MS,
      bodyBytes: deps.limits.bodyBytes,
    });
    res
      .set({
        'Content-Security-Policy': STATUS_PAGE_CSP,
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
      })
      .type('html')
      .send(html);
  });
}

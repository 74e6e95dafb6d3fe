/** GET /: the status page (issue: live budget, exits, agreement, a drop zone). Filled in by status-page assets. */
import type { Express } from 'express';
import type { AppDeps } from './server-types';

export function addStatusPage(app: Express, deps: AppDeps): void {
  app.get('/', (_req, res) => {
    res.type('text/plain').send(`EERO-serve: ${[...deps.models.keys()].join(', ')}. API: /v1/classify, /v1/models, /metrics\n`);
  });
}

/** createApp(deps): the express app, with no socket (listen is separate: listen.ts). */
import express, { type Express } from 'express';
import type { ClassifyContext } from './classify-request';
import { errorHandler, notFound } from './error-response';
import { requestMetrics } from './request-metrics';
import type { AppDeps } from './server-types';
import { addV1Routes } from './v1-routes';
import { addV2Routes } from './v2-routes';

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  let key = 0;
  const ctx: ClassifyContext = { deps, nextKey: () => key++ };
  app.use(requestMetrics(deps));
  addV1Routes(app, ctx);
  addV2Routes(app, ctx);
  app.use(notFound);
  app.use(errorHandler(deps));
  return app;
}

/** createApp(deps): the express app, with no socket (listen is separate: listen.ts). */
import express, { type Express, type RequestHandler } from 'express';
import { EeroError } from '../errors';
import { errorHandler, notFound } from './error-response';
import { requestMetrics } from './request-metrics';
import type { AppDeps } from './server-types';
import { addStatusPage } from './status-page';
import { addV1Routes } from './v1-routes';
import { addV2Routes } from './v2-routes';

/** Once the listener closes, requests still arriving on kept-alive connections are told to go elsewhere. */
function refuseWhenClosing(deps: AppDeps): RequestHandler {
  return (req, _res, next) => {
    if (deps.phase() !== 'closing' || req.path === '/healthz' || req.path === '/readyz') return next();
    throw new EeroError('SHUTTING_DOWN', 'the service is shutting down; retry on another replica', { details: { retryAfterSeconds: 1 } });
  };
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestMetrics(deps));
  app.use(refuseWhenClosing(deps));
  addStatusPage(app, deps);
  addV1Routes(app, deps);
  addV2Routes(app, deps);
  app.use(notFound);
  app.use(errorHandler(deps));
  return app;
}

/** createApp(deps): the express app, with no socket (listen is separate: listen.ts). */
import express, { type Express, type RequestHandler } from 'express';
import { EeroError } from '../errors';
import { overConnectionLimit } from './connection-limit';
import { errorHandler, notFound } from './error-response';
import { leaveUnread } from './read-body';
import { requestMetrics } from './request-metrics';
import type { AppDeps } from './server-types';
import { addStatusPage } from './status-page';
import { addV1Routes } from './v1-routes';
import { addV2Routes } from './v2';

/**
 * Shutdown, as a client sees it: while draining, answers still come; once the
 * listener has closed, a request still arriving on an open connection is told
 * to go elsewhere (503 SHUTTING_DOWN). Which answers close their connection is
 * the listener's business (connection-drain.ts), so that none is reset.
 */
function shutdownManners(deps: AppDeps): RequestHandler {
  return (req, _res, next) => {
    const phase = deps.phase();
    if (phase === 'serving' || phase === 'draining' || req.path === '/healthz' || req.path === '/readyz') return next();
    throw new EeroError('SHUTTING_DOWN', 'the service is shutting down; retry on another replica', { details: { retryAfterSeconds: 1 } });
  };
}

/** A connection its address opened past limits.connectionsPerAddress: its request is refused, the connection closed. */
const connectionLimit: RequestHandler = (req, _res, next) => {
  if (!overConnectionLimit(req.socket)) return next();
  leaveUnread(req);
  throw new EeroError(
    'OVERLOADED',
    'too many connections open from this address (limits.connectionsPerAddress); send on the ones already open, or retry shortly',
    { details: { retryAfterSeconds: 1 } },
  );
};

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestMetrics(deps));
  app.use(connectionLimit);
  app.use(shutdownManners(deps));
  addStatusPage(app, deps);
  addV1Routes(app, deps);
  addV2Routes(app, deps);
  app.use(notFound);
  app.use(errorHandler(deps));
  return app;
}

import type { RequestHandler } from 'express';
import type { AppDeps } from './server-types';

/** Status recorded for a request whose client went away before the answer was written (nginx's convention). */
export const CLIENT_CLOSED_STATUS = 499;

/** The matched route's pattern ("/v2/models/:name/infer"), never the path; "unmatched" otherwise. */
function routePattern(route: unknown): string {
  if (typeof route === 'object' && route !== null && 'path' in route) {
    const path = route.path;
    if (typeof path === 'string') return path;
  }
  return 'unmatched';
}

/** Counts every request by route pattern and status, with its duration. */
export function requestMetrics(deps: AppDeps): RequestHandler {
  return (req, res, next) => {
    const start = deps.clock();
    res.once('close', () => {
      const status = res.writableFinished ? res.statusCode : CLIENT_CLOSED_STATUS;
      deps.metrics.recordRequest(routePattern(req.route), status, Math.max(0, deps.clock() - start) / 1000);
    });
    next();
  };
}

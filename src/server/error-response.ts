/**
 * The one place where errors become HTTP answers: status from
 * EeroError.httpStatus, `{error: {code, message, details?}}` on our routes,
 * `{error: "CODE: message"}` on the KServe v2 routes (the protocol's shape),
 * Retry-After on every 503, and the errors-by-code metric.
 */
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { EeroError, toEeroError } from '../errors';
import { closesAfterAnswer } from './read-body';
import { allowedMethods } from './routes-table';
import type { AppDeps } from './server-types';

export type ErrorFlavour = 'v1' | 'v2';

export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export function flavourOf(path: string): ErrorFlavour {
  return path === '/v2' || path.startsWith('/v2/') ? 'v2' : 'v1';
}

export function errorAnswer(error: EeroError, flavour: ErrorFlavour): ErrorAnswer {
  const status = error.httpStatus;
  const headers: Record<string, string> = {};
  if (error.code === 'SHUTTING_DOWN') headers.Connection = 'close';
  if (status === 503) {
    const retry = error.details?.retryAfterSeconds;
    headers['Retry-After'] = String(typeof retry === 'number' && retry > 0 ? Math.ceil(retry) : 1);
  }
  const body =
    flavour === 'v2'
      ? { error: `${error.code}: ${error.message}` }
      : { error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } };
  return { status, headers, body };
}

/** Anything thrown: ours as it is; a framework error carrying an HTTP status keeps its meaning; the rest is INTERNAL. */
export function asEeroError(e: unknown): EeroError {
  if (e instanceof EeroError) return e;
  const status = typeof e === 'object' && e !== null && 'status' in e ? e.status : undefined;
  if (status === 413) return toEeroError(e, 'BODY_TOO_LARGE');
  if (status === 415) return toEeroError(e, 'UNSUPPORTED_MEDIA_TYPE');
  if (typeof status === 'number' && status >= 400 && status < 500) return toEeroError(e, 'BAD_PARAMETER');
  return toEeroError(e, 'INTERNAL');
}

export function sendError(deps: AppDeps, req: Request, res: Response, e: unknown): void {
  const error = asEeroError(e);
  deps.metrics.recordError(error.code);
  if (error.code === 'INTERNAL')
    deps.logger.error(
      `${req.method} ${req.path}: ${error.cause instanceof Error ? (error.cause.stack ?? error.message) : (error.stack ?? error.message)}`,
    );
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const answer = errorAnswer(error, flavourOf(req.path));
  // A body left unread (read-body.ts) is not parsed on: the connection closes after the answer.
  if (closesAfterAnswer(req)) res.set('Connection', 'close');
  res.status(answer.status).set(answer.headers).json(answer.body);
}

export function errorHandler(deps: AppDeps): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => sendError(deps, req, res, err);
}

/** Every request no route matched: a known path with another method (405 with Allow), else 404. */
export const notFound: RequestHandler = (req, res) => {
  const allowed = allowedMethods(req.path);
  if (allowed) {
    res.set('Allow', allowed.join(', '));
    throw new EeroError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${req.path}; use ${allowed.join(' or ')}`, {
      details: { allow: allowed },
    });
  }
  throw new EeroError('NOT_FOUND', `no route for ${req.method} ${req.path}`);
};

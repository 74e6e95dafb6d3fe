/**
 * KServe Open Inference Protocol v2 over REST, with Triton's binary tensor
 * and classification extensions: server live/ready/metadata, model
 * metadata/ready/infer with and without `/versions/{v}`. Errors take the
 * protocol's shape, `{"error": "CODE: message"}` (error-response.ts).
 */
import type { Express, Request, RequestHandler, Response } from 'express';
import { EeroError } from '../../errors';
import { resolveModel } from '../classify-http';
import { askerOf } from '../client-key';
import { requestDeadline, untilAborted } from '../deadline';
import { readBody } from '../read-body';
import type { AppDeps, ServedModel } from '../server-types';
import { isReady } from '../v1-routes';
import { runInfer } from './infer';
import { checkVersion, modelMetadata, modelReady, serverMetadata } from './metadata';
import { headerLength, parseRestInfer } from './rest-request';
import { restAnswer } from './rest-response';

/** JSON carries images as base64 (4/3 of the bytes); binary data carry them as they are. Both leave 64 KiB for the JSON. */
export function bodyLimits(bodyBytes: number): { json: number; binary: number } {
  return { json: Math.ceil((bodyBytes * 4) / 3) + 64 * 1024, binary: bodyBytes + 64 * 1024 };
}

function versioned(req: Request, deps: AppDeps): ServedModel {
  const params = req.params as { name?: string; version?: string };
  const model = resolveModel(deps, params.name);
  checkVersion(model, params.version);
  return model;
}

/** JSON, or with the binary extension JSON + bytes (application/octet-stream or untyped, as Triton's clients send). */
function checkBodyType(req: Request, binary: boolean): void {
  const encoding = req.headers['content-encoding']?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
    throw new EeroError('UNSUPPORTED_MEDIA_TYPE', `Content-Encoding ${encoding} is not supported; send the body uncompressed`);
  }
  const type = req.headers['content-type'];
  // Judge the header itself: req.is() answers null for an empty body whatever its type.
  const base = type?.split(';')[0]?.trim().toLowerCase();
  if (type === undefined || base === 'application/json' || (binary && base === 'application/octet-stream')) return;
  throw new EeroError(
    'UNSUPPORTED_MEDIA_TYPE',
    `expected application/json (or, with Inference-Header-Content-Length, application/octet-stream), got ${type}`,
  );
}

function infer(deps: AppDeps): RequestHandler {
  const limits = bodyLimits(deps.limits.bodyBytes);
  return async (req, res) => {
    const deadline = requestDeadline(res, deps.limits.requestTimeoutMs);
    try {
      const model = versioned(req, deps);
      const jsonLength = headerLength(req.headers['inference-header-content-length']);
      checkBodyType(req, jsonLength !== undefined);
      const body = await untilAborted(readBody(req, jsonLength === undefined ? limits.json : limits.binary), deadline.signal);
      const call = parseRestInfer(body, jsonLength, model.describe(), deps.limits.filesPerRequest);
      const answer = restAnswer(await runInfer(deps, model, call, deadline.signal, askerOf(req)));
      res.status(200).set(answer.headers).end(answer.body);
    } finally {
      deadline.done();
    }
  };
}

function readiness(res: Response, ready: boolean, body: Record<string, unknown>): void {
  res.status(ready ? 200 : 503).json(body);
}

export function addV2Routes(app: Express, deps: AppDeps): void {
  app.get('/v2', (_req, res) => {
    res.json(serverMetadata());
  });
  app.get('/v2/health/live', (_req, res) => {
    res.json({ live: true });
  });
  app.get('/v2/health/ready', (_req, res) => {
    const ready = isReady(deps);
    readiness(res, ready, { ready });
  });
  const metadata: RequestHandler = (req, res) => {
    res.json(modelMetadata(versioned(req, deps)));
  };
  const ready: RequestHandler = (req, res) => {
    const model = versioned(req, deps);
    const is = modelReady(deps, model);
    readiness(res, is, { name: model.name, ready: is });
  };
  const run = infer(deps);
  for (const base of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    app.get(base, metadata);
    app.get(`${base}/ready`, ready);
    app.post(`${base}/infer`, run);
  }
}

/** Our own routes: classify, models, health, metrics, recalibrate. */
import type { Express, Request, Response } from 'express';
import { EeroError } from '../errors';
import { renderMetrics } from '../metrics';
import { classifyHttp, resolveModel } from './classify-http';
import { requestDeadline, untilAborted } from './deadline';
import { readMultipart } from './multipart';
import { askerOf } from './client-key';
import { parseClassifyParams, queryStringParams } from './params';
import { readBody } from './read-body';
import { budgetJson, errorItem, resultJson } from './result-json';
import type { AppDeps } from './server-types';

export function isReady(deps: AppDeps): boolean {
  return deps.phase() === 'serving' && deps.models.size > 0 && [...deps.models.values()].every((m) => m.ready);
}

async function classifyMultipart(deps: AppDeps, req: Request, res: Response, signal: AbortSignal): Promise<void> {
  const body = await untilAborted(readMultipart(req, { bodyBytes: deps.limits.bodyBytes, files: deps.limits.filesPerRequest }), signal);
  const params = parseClassifyParams(req.query, body.fields);
  const model = resolveModel(deps, params.model);
  if (body.files.length === 0) throw new EeroError('EMPTY_INPUT', 'the multipart request has no file parts');
  const answer = await untilAborted(classifyHttp(model, body.files, params, signal, askerOf(req)), signal);
  const budget = budgetJson(answer.choice, model.describe().budget.limit);
  const results = answer.outcomes.map((o, i) => {
    const file = body.files[i]?.file ?? String(i);
    if (o.ok) return { file, ...resultJson(model.name, budget, o) };
    deps.metrics.recordError(o.error.code);
    return errorItem(file, o.error);
  });
  res.json({ model: model.name, results });
}

async function classifyRaw(deps: AppDeps, req: Request, res: Response, signal: AbortSignal): Promise<void> {
  const params = queryStringParams(req.url, () => req.query);
  const model = resolveModel(deps, params.model);
  const bytes = await untilAborted(readBody(req, deps.limits.bodyBytes), signal);
  const answer = await untilAborted(
    classifyHttp(model, [{ bytes, mimeType: req.headers['content-type'] }], params, signal, askerOf(req)),
    signal,
  );
  const outcome = answer.outcomes[0];
  if (!outcome) throw new EeroError('INTERNAL', 'no answer for the image');
  if (!outcome.ok) throw outcome.error;
  res.json(resultJson(model.name, budgetJson(answer.choice, model.describe().budget.limit), outcome));
}

function checkAdmin(deps: AppDeps, req: Request): void {
  if (deps.adminToken === undefined) throw new EeroError('NOT_FOUND', 'recalibration is disabled (the config sets no adminToken)');
  if (req.headers.authorization !== `Bearer ${deps.adminToken}`)
    throw new EeroError('UNAUTHORIZED', 'a valid "Authorization: Bearer <adminToken>" header is required');
}

export function addV1Routes(app: Express, deps: AppDeps): void {
  app.post('/v1/classify', async (req, res) => {
    const deadline = requestDeadline(res, deps.limits.requestTimeoutMs);
    try {
      if (req.is('multipart/form-data')) await classifyMultipart(deps, req, res, deadline.signal);
      else await classifyRaw(deps, req, res, deadline.signal);
    } finally {
      deadline.done();
    }
  });
  app.get('/v1/models', (_req, res) => {
    res.json({ defaultModel: deps.defaultModel, models: [...deps.models.values()].map((m) => ({ ...m.describe(), ready: m.ready })) });
  });
  app.post('/v1/models/:name/recalibrate', async (req, res) => {
    checkAdmin(deps, req);
    const model = resolveModel(deps, req.params.name);
    if (!model.recalibrate) throw new EeroError('BAD_PARAMETER', `model ${model.name} offers no recalibration`);
    res.json({ model: model.name, ...(await model.recalibrate()) });
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'alive' });
  });
  app.get('/readyz', (_req, res) => {
    const ready = isReady(deps);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', phase: deps.phase() });
  });
  app.get('/metrics', async (_req, res) => {
    const { contentType, body } = await renderMetrics(deps.registry);
    res.set('Content-Type', contentType).send(body);
  });
}

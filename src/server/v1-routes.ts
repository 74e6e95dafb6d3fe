/** Our own routes: classify, models, health, metrics. */
import type { Express, Request, Response } from 'express';
import { EeroError } from '../errors';
import { renderMetrics } from '../metrics';
import { classifyInputs, resolveModel, type ClassifyContext } from './classify-request';
import { requestDeadline, untilAborted } from './deadline';
import { describeModel } from './model-info';
import { readMultipart } from './multipart';
import { parseClassifyParams, type RawParams } from './params';
import { readBody } from './read-body';
import { errorItem, resultJson } from './result-json';
import type { AppDeps } from './server-types';

export function isReady(deps: AppDeps): boolean {
  return deps.accepting() && deps.models.size > 0 && [...deps.models.values()].every((m) => m.warmed);
}

async function classifyMultipart(ctx: ClassifyContext, req: Request, res: Response, signal: AbortSignal): Promise<void> {
  const { deps } = ctx;
  const body = await untilAborted(readMultipart(req, { bodyBytes: deps.limits.bodyBytes, files: deps.limits.filesPerRequest }), signal);
  const params = parseClassifyParams(req.query as RawParams, body.fields);
  const entry = resolveModel(deps, params.model);
  if (body.files.length === 0) throw new EeroError('EMPTY_INPUT', 'the multipart request has no file parts');
  const run = await untilAborted(classifyInputs(ctx, entry, body.files, params, signal), signal);
  const results = run.answers.map((a, i) => {
    const file = body.files[i]?.file ?? String(i);
    if (a.ok) return { file, ...resultJson(entry.name, run.choice, a) };
    deps.metrics.recordError(a.error.code);
    return errorItem(file, a.error);
  });
  res.json({ model: entry.name, results });
}

async function classifyRaw(ctx: ClassifyContext, req: Request, res: Response, signal: AbortSignal): Promise<void> {
  const params = parseClassifyParams(req.query as RawParams);
  const entry = resolveModel(ctx.deps, params.model);
  const bytes = await untilAborted(readBody(req, ctx.deps.limits.bodyBytes), signal);
  const run = await untilAborted(classifyInputs(ctx, entry, [{ bytes, mimeType: req.headers['content-type'] }], params, signal), signal);
  const answer = run.answers[0];
  if (!answer) throw new EeroError('INTERNAL', 'no answer for the image');
  if (!answer.ok) throw answer.error;
  res.json(resultJson(entry.name, run.choice, answer));
}

export function addV1Routes(app: Express, ctx: ClassifyContext): void {
  const { deps } = ctx;
  app.post('/v1/classify', async (req, res) => {
    const deadline = requestDeadline(req, res, deps.limits.requestTimeoutMs);
    try {
      if (req.is('multipart/form-data')) await classifyMultipart(ctx, req, res, deadline.signal);
      else await classifyRaw(ctx, req, res, deadline.signal);
    } finally {
      deadline.done();
    }
  });
  app.get('/v1/models', (_req, res) => {
    res.json({ defaultModel: deps.defaultModel, models: [...deps.models.values()].map(describeModel) });
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'alive' });
  });
  app.get('/readyz', (_req, res) => {
    const ready = isReady(deps);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready' });
  });
  app.get('/metrics', async (_req, res) => {
    const { contentType, body } = await renderMetrics(deps.registry);
    res.set('Content-Type', contentType).send(body);
  });
}

/**
 * KServe Open Inference Protocol v2 (REST, JSON only: the binary-data
 * extension is refused with 415). One input, `image`, BYTES: each element a
 * base64-encoded image. Request `parameters`: those of /v1/classify's query
 * (budget, topk, trace, score, beta, accuracy_target, agreement, accuracy_drop,
 * delta, deadline_ms); the model is the path's.
 * Outputs: label BYTES [n], probabilities FP32 [n, K], exit INT32 [n],
 * cost_fraction FP32 [n], forced BOOL [n]; with topk: topk_labels BYTES [n, k]
 * and topk_probabilities FP32 [n, k]; with trace: trace BYTES [n] (JSON text).
 * An inference is all or nothing: the first bad image fails the request,
 * `{"error": "CODE: input image i: message"}`, status as on /v1.
 */
import type { Express } from 'express';
import { EeroError } from '../errors';
import type { ImageOutcome } from '../pipeline';
import { classifyHttp, resolveModel } from './classify-http';
import { requestDeadline, untilAborted } from './deadline';
import { clientKey } from './client-key';
import { parseParams, type RawParams } from './params';
import { readBody } from './read-body';
import type { AppDeps, ServedModel } from './server-types';
import { isReady } from './v1-routes';

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function bad(message: string): EeroError {
  return new EeroError('BAD_PARAMETER', message);
}

/** A client's JSON value named in a message: short, and never throwing (String() of {"toString": 1} throws, of deep arrays overflows). */
function shown(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}...` : v);
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return String(v);
  return Array.isArray(v) ? 'an array' : v === undefined ? 'nothing' : 'an object';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface V2Request {
  id: string | undefined;
  images: Buffer[];
  parameters: RawParams;
}

export function parseInferRequest(text: string): V2Request {
  if (text.trim() === '') throw new EeroError('EMPTY_INPUT', 'the request body is empty; send a JSON inference request with "inputs"');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new EeroError('BAD_PARAMETER', `the request is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!isRecord(body)) throw bad('the request must be a JSON object with "inputs"');
  const inputs = body.inputs;
  if (!Array.isArray(inputs) || inputs.length !== 1 || !isRecord(inputs[0])) throw bad('"inputs" must hold exactly one tensor, "image"');
  const input = inputs[0];
  if (input.datatype !== 'BYTES') throw bad(`input ${shown(input.name)} must have datatype BYTES, got ${shown(input.datatype)}`);
  const inputParams = isRecord(input.parameters) ? input.parameters : {};
  if (inputParams.binary_data_size !== undefined) {
    throw new EeroError('UNSUPPORTED_MEDIA_TYPE', 'the binary data extension is not supported; send base64 strings in "data"');
  }
  const data: unknown[] = Array.isArray(input.data) ? input.data.flat(2) : [];
  if (data.length === 0) throw new EeroError('EMPTY_INPUT', 'input "image" has no data');
  const images = data.map((d, i) => {
    if (typeof d !== 'string') throw bad(`input image ${i}: expected a base64 string`);
    const s = d.replace(/\s+/g, '');
    if (!BASE64.test(s)) throw bad(`input image ${i}: not valid base64`);
    return Buffer.from(s, 'base64');
  });
  const parameters = isRecord(body.parameters) ? body.parameters : {};
  return { id: typeof body.id === 'string' ? body.id : undefined, images, parameters };
}

/** KServe Open Inference Protocol v2 model metadata. */
function v2Metadata(model: ServedModel): Record<string, unknown> {
  const d = model.describe();
  const k = d.labels.length;
  return {
    name: model.name,
    versions: ['1'],
    platform: 'eero',
    inputs: [{ name: 'image', datatype: 'BYTES', shape: [-1] }],
    outputs: [
      { name: 'label', datatype: 'BYTES', shape: [-1] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, k] },
      { name: 'exit', datatype: 'INT32', shape: [-1] },
      { name: 'cost_fraction', datatype: 'FP32', shape: [-1] },
      { name: 'forced', datatype: 'BOOL', shape: [-1] },
    ],
    parameters: { labels: d.labels.join(','), exits: d.exits.length, budget_limit: d.budget.limit },
  };
}

function outputs(
  answers: Array<Extract<ImageOutcome, { ok: true }>>,
  classes: number,
  topk: number | undefined,
  trace: boolean,
): unknown[] {
  const n = answers.length;
  const probs = new Array<number>(n * classes).fill(0);
  answers.forEach((a, i) => {
    for (const t of a.result.topk) probs[i * classes + t.classIndex] = t.probability;
  });
  const out: unknown[] = [
    { name: 'label', datatype: 'BYTES', shape: [n], data: answers.map((a) => a.result.label) },
    { name: 'probabilities', datatype: 'FP32', shape: [n, classes], data: probs },
    { name: 'exit', datatype: 'INT32', shape: [n], data: answers.map((a) => a.result.exit) },
    { name: 'cost_fraction', datatype: 'FP32', shape: [n], data: answers.map((a) => a.result.costFraction) },
    { name: 'forced', datatype: 'BOOL', shape: [n], data: answers.map((a) => a.result.forced) },
  ];
  if (topk !== undefined) {
    const k = Math.min(topk, classes);
    const top = answers.map((a) => a.result.topk.slice(0, k));
    out.push({ name: 'topk_labels', datatype: 'BYTES', shape: [n, k], data: top.flatMap((t) => t.map((e) => e.label)) });
    out.push({ name: 'topk_probabilities', datatype: 'FP32', shape: [n, k], data: top.flatMap((t) => t.map((e) => e.probability)) });
  }
  if (trace) out.push({ name: 'trace', datatype: 'BYTES', shape: [n], data: answers.map((a) => JSON.stringify(a.result.trace ?? [])) });
  return out;
}

export function addV2Routes(app: Express, deps: AppDeps): void {
  app.get('/v2/health/live', (_req, res) => {
    res.json({ live: true });
  });
  app.get('/v2/health/ready', (_req, res) => {
    const ready = isReady(deps);
    res.status(ready ? 200 : 503).json({ ready });
  });
  app.get('/v2/models/:name', (req, res) => {
    res.json(v2Metadata(resolveModel(deps, req.params.name)));
  });
  app.get('/v2/models/:name/ready', (req, res) => {
    const model = resolveModel(deps, req.params.name);
    const ready = model.ready && deps.phase() === 'serving';
    res.status(ready ? 200 : 503).json({ name: model.name, ready });
  });
  app.post('/v2/models/:name/infer', async (req, res) => {
    const deadline = requestDeadline(res, deps.limits.requestTimeoutMs);
    try {
      const model = resolveModel(deps, req.params.name);
      const type = req.headers['content-type'];
      // Judge the header itself: req.is() answers null for an empty body whatever its type.
      const base = type?.split(';')[0]?.trim().toLowerCase();
      if (type !== undefined && base !== 'application/json') {
        throw new EeroError(
          'UNSUPPORTED_MEDIA_TYPE',
          `expected application/json, got ${type} (the binary data extension is not supported)`,
        );
      }
      // base64 is 4/3 of the bytes; JSON framing on top.
      const limit = Math.ceil((deps.limits.bodyBytes * 4) / 3) + 64 * 1024;
      const request = parseInferRequest((await untilAborted(readBody(req, limit), deadline.signal)).toString('utf8'));
      if (request.images.length > deps.limits.filesPerRequest) {
        throw new EeroError('TOO_MANY_FILES', `more than ${deps.limits.filesPerRequest} images in one inference`, {
          details: { limit: deps.limits.filesPerRequest },
        });
      }
      const params = parseParams([request.parameters], 'v2');
      const described = model.describe();
      const classes = described.labels.length;
      // Full probabilities are an output: ask the pipeline for every class.
      const answer = await untilAborted(
        classifyHttp(
          model,
          request.images.map((bytes) => ({ bytes })),
          { ...params, topk: classes },
          deadline.signal,
          clientKey(req),
        ),
        deadline.signal,
      );
      const ok = answer.outcomes.map((o, i) => {
        if (o.ok) return o;
        throw new EeroError(o.error.code, `input image ${i}: ${o.error.message}`, {
          cause: o.error,
          ...(o.error.details ? { details: o.error.details } : {}),
        });
      });
      res.json({
        model_name: model.name,
        model_version: '1',
        ...(request.id === undefined ? {} : { id: request.id }),
        parameters: {
          budget_limit: described.budget.limit,
          budget_fraction: answer.choice.fraction,
          budget_rule: answer.choice.rule,
          thresholds_version: answer.choice.version,
        },
        outputs: outputs(ok, classes, params.topkGiven ? params.topk : undefined, params.trace),
      });
    } finally {
      deadline.done();
    }
  });
}

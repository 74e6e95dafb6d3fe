/**
 * A REST inference request: JSON, or JSON followed by binary tensor data
 * (Triton's binary tensor extension: `Inference-Header-Content-Length` gives
 * the JSON's length, each binary input's `binary_data_size` its bytes).
 * BYTES elements in JSON are base64 strings (an encoded image is no text).
 */
import { EeroError } from '../../errors';
import type { ModelDescription } from '../server-types';
import type { RawParams } from '../params';
import type { InferCall } from './infer';
import { decodeBase64 } from './base64';
import { jsonValuesOver } from './json-values';
import {
  checkInputHead,
  classifyInputs,
  countMismatch,
  requestValueLimit,
  rawInputData,
  shown,
  type InputData,
  type InputHead,
} from './model-inputs';
import type { RequestedOutput } from './outputs';

function bad(message: string): EeroError {
  return new EeroError('BAD_PARAMETER', message);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The Inference-Header-Content-Length header: undefined when absent; BAD_REQUEST unless a whole number within the body. */
export function headerLength(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw new EeroError('BAD_REQUEST', `Inference-Header-Content-Length must be a whole number of bytes, got ${shown(value)}`);
  }
  return n;
}

function parseJson(text: string): Record<string, unknown> {
  if (text.trim() === '') throw new EeroError('EMPTY_INPUT', 'the request body is empty; send a JSON inference request with "inputs"');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new EeroError('BAD_PARAMETER', `the request is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!isRecord(body)) throw bad('the request must be a JSON object with "inputs"');
  return body;
}

/**
 * Visits the leaves of nested arrays down to `depth` levels, in order, as
 * Array.prototype.flat(depth) would list them (deeper arrays are leaves);
 * returns how many there were. Nothing is copied (a flat() of two million
 * numbers took as long as parsing them), and nothing recurses: a shape of
 * 30,000 ones with data nested as deep overflowed the stack.
 */
function eachLeaf(data: unknown[], depth: number, visit: (value: unknown, index: number) => void): number {
  const arrays: unknown[][] = [data];
  const next: number[] = [0];
  let at = 0;
  while (arrays.length > 0) {
    const top = arrays.length - 1;
    const array = arrays[top] as unknown[];
    const i = (next[top] as number)++;
    if (i >= array.length) {
      arrays.pop();
      next.pop();
      continue;
    }
    const v = array[i];
    if (arrays.length <= depth && Array.isArray(v)) {
      arrays.push(v);
      next.push(0);
    } else visit(v, at++);
  }
  return at;
}

/** JSON `data`, nested or flat, as the head's datatype. */
function jsonData(head: InputHead, raw: unknown): InputData {
  const data = Array.isArray(raw) ? raw : [];
  // Flattened as deep as the shape goes (at least [[...]] for [n] images, as before).
  const depth = Math.max(2, head.shape.length - 1);
  const count = eachLeaf(data, depth, () => undefined);
  if (count !== head.count) throw countMismatch(head, count);
  const what = `input "${head.name}"`;
  if (head.datatype === 'BYTES') {
    const images: Uint8Array[] = [];
    eachLeaf(data, depth, (d, i) => {
      if (typeof d !== 'string') throw bad(`input image ${i}: expected a base64 string`);
      const bytes = decodeBase64(d);
      if (bytes === undefined)
        throw bad(`input image ${i}: not valid base64 (standard or URL-safe; whitespace at most one character in 16)`);
      images.push(bytes);
    });
    return images;
  }
  const fp32 = head.datatype === 'FP32';
  const out = fp32 ? new Float32Array(count) : new Uint8Array(count);
  eachLeaf(data, depth, (v, i) => {
    const ok = typeof v === 'number' && (fp32 ? Number.isFinite(v) : Number.isInteger(v) && v >= 0 && v <= 255);
    if (!ok)
      throw new EeroError('BAD_REQUEST', `${what}: element ${i} is ${shown(v)}, not ${fp32 ? 'a finite number' : 'an integer 0..255'}`);
    out[i] = v;
  });
  return out;
}

function requestedOutputs(raw: unknown): RequestedOutput[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw bad('"outputs" must be an array of {"name": ...}');
  return raw.map((o) => {
    if (!isRecord(o) || typeof o.name !== 'string') throw bad('each of "outputs" must be an object with a "name"');
    return { name: o.name, parameters: isRecord(o.parameters) ? o.parameters : {} };
  });
}

/**
 * The body as an inference call; `jsonLength` splits JSON from binary data (the header's value).
 * `maxImages` (limits.filesPerRequest) bounds the images, and with them the values the JSON may hold.
 */
export function parseRestInfer(body: Buffer, jsonLength: number | undefined, model: ModelDescription, maxImages: number): InferCall {
  if (jsonLength !== undefined && jsonLength > body.length) {
    throw new EeroError('BAD_REQUEST', `Inference-Header-Content-Length ${jsonLength} is more than the body's ${body.length} bytes`);
  }
  const text = body.subarray(0, jsonLength ?? body.length);
  const most = requestValueLimit(model, maxImages);
  if (jsonValuesOver(text, most)) {
    throw new EeroError(
      'BODY_TOO_LARGE',
      `the JSON holds more than ${most} values, more than a request of at most ${maxImages} images needs; send images as BYTES or pixels with the binary data extension`,
      { details: { limit: most } },
    );
  }
  const json = parseJson(text.toString('utf8'));
  const binary = jsonLength === undefined ? new Uint8Array(0) : body.subarray(jsonLength);
  const inputs = json.inputs;
  if (!Array.isArray(inputs) || inputs.length !== 1 || !isRecord(inputs[0])) {
    throw bad('"inputs" must hold exactly one tensor: image, input or pixels');
  }
  const input = inputs[0];
  const head = checkInputHead(input.name, input.datatype, input.shape, model, body.length, maxImages);
  const inputParams: RawParams = isRecord(input.parameters) ? input.parameters : {};
  const size = inputParams.binary_data_size;
  let data: InputData;
  if (size === undefined || size === null) {
    if (binary.length > 0)
      throw new EeroError('BAD_REQUEST', `${binary.length} bytes of binary data follow the JSON, but no input has binary_data_size`);
    data = jsonData(head, input.data);
  } else {
    if (jsonLength === undefined)
      throw new EeroError('BAD_REQUEST', "binary_data_size needs the Inference-Header-Content-Length header (the JSON part's length)");
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
      throw new EeroError('BAD_REQUEST', `binary_data_size must be a whole number of bytes, got ${shown(size)}`);
    if (size !== binary.length)
      throw new EeroError('BAD_REQUEST', `binary_data_size says ${size} bytes, ${binary.length} bytes follow the JSON`);
    data = rawInputData(head, binary);
  }
  return {
    id: typeof json.id === 'string' ? json.id : undefined,
    parameters: isRecord(json.parameters) ? json.parameters : {},
    inputs: classifyInputs(head, data),
    outputs: requestedOutputs(json.outputs),
  };
}

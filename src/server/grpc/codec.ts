/**
 * ModelInferRequest -> the v2 inference call, and the answer ->
 * ModelInferResponse. Inputs come as `raw_input_contents` (bytes as in REST's
 * binary data) or typed `contents` (bytes_contents, fp32_contents,
 * uint_contents); outputs go back as `raw_output_contents`, as Triton answers,
 * or typed `contents` when the request sets `binary_data_output` false.
 */
import { EeroError } from '../../errors';
import type { RawParams } from '../params';
import type { ModelDescription } from '../server-types';
import {
  checkInputHead,
  classifyInputs,
  flag,
  rawInputData,
  tensorBytes,
  type InferAnswer,
  type InferCall,
  type InputData,
  type InputHead,
  type OutputTensor,
  type ParameterValue,
} from '../v2';
import type { InferOutputTensor, InferParameter, InferTensorContents, ModelInferRequest, ModelInferResponse, Parameters } from './messages';

function bad(message: string): EeroError {
  return new EeroError('BAD_REQUEST', message);
}

/** InferParameter values as REST's JSON would carry them, for the shared parameter parsing. */
export function rawParameters(parameters: Parameters | undefined): RawParams {
  const out: RawParams = {};
  for (const [key, p] of Object.entries(parameters ?? {})) {
    const choice = p.parameter_choice;
    if (choice !== undefined) out[key] = p[choice];
  }
  return out;
}

/** Every typed field holding data, by name. */
function filled(contents: InferTensorContents | null): Array<[string, unknown[]]> {
  return Object.entries(contents ?? {}).filter((e): e is [string, unknown[]] => Array.isArray(e[1]) && e[1].length > 0);
}

const FIELD: Record<InputHead['datatype'], keyof InferTensorContents> = {
  BYTES: 'bytes_contents',
  FP32: 'fp32_contents',
  UINT8: 'uint_contents',
};

/** The typed field a datatype's data go in; BAD_REQUEST when they are in another one. */
function typedValues(name: string, datatype: string, contents: InferTensorContents | null): unknown[] {
  const field = Object.hasOwn(FIELD, datatype) ? FIELD[datatype as InputHead['datatype']] : undefined;
  const other = filled(contents).find(([f]) => f !== field);
  if (field && other) throw bad(`input ${JSON.stringify(name)} (${datatype}): its data go in contents.${field}, not contents.${other[0]}`);
  return field ? (contents?.[field] ?? []) : [];
}

function typedData(head: InputHead, values: unknown[]): InputData {
  if (head.datatype === 'BYTES') return values as Buffer[];
  if (head.datatype === 'FP32') return Float32Array.from(values as number[]);
  const pixels = values as number[];
  const at = pixels.findIndex((v) => v > 255);
  if (at >= 0) throw bad(`input "${head.name}": element ${at} is ${pixels[at]}, not an integer 0..255`);
  return Uint8Array.from(pixels);
}

/** `maxImages`: limits.filesPerRequest, checked from the shape before the data are read. */
export function decodeInferRequest(req: ModelInferRequest, model: ModelDescription, maxImages: number): InferCall {
  if (req.inputs.length !== 1) throw new EeroError('BAD_PARAMETER', '"inputs" must hold exactly one tensor: image, input or pixels');
  const input = req.inputs[0] as ModelInferRequest['inputs'][number];
  const raw = req.raw_input_contents;
  if (raw.length > 0 && raw.length !== req.inputs.length) {
    throw bad(`raw_input_contents has ${raw.length} entries for ${req.inputs.length} input(s)`);
  }
  if (raw.length > 0 && filled(input.contents).length > 0)
    throw bad('give an input its data in raw_input_contents or in contents, not both');
  const rawData = raw[0];
  const values = rawData ? [] : typedValues(input.name, input.datatype, input.contents);
  // Elements cannot outnumber what the message carries: bounds the shape before anything is allocated.
  const head = checkInputHead(input.name, input.datatype, input.shape, model, rawData ? rawData.length : values.length, maxImages);
  const data = rawData ? rawInputData(head, rawData) : typedData(head, values);
  return {
    id: req.id === '' ? undefined : req.id,
    parameters: rawParameters(req.parameters),
    inputs: classifyInputs(head, data),
    outputs: req.outputs.map((o) => ({ name: o.name, parameters: rawParameters(o.parameters) })),
  };
}

/** Counts and versions go as int64; fractions as their decimal text, since the spec's InferParameter has no double (Triton's has). */
const INTEGER_PARAMETERS = new Set(['thresholds_version']);

function parameter(key: string, v: ParameterValue): InferParameter {
  if (typeof v === 'boolean') return { bool_param: v };
  if (typeof v === 'string') return { string_param: v };
  return INTEGER_PARAMETERS.has(key) && Number.isSafeInteger(v) ? { int64_param: v } : { string_param: String(v) };
}

function typedContents(t: OutputTensor): InferTensorContents {
  switch (t.datatype) {
    case 'BYTES':
      return { bytes_contents: t.data.map((s) => Buffer.from(s, 'utf8')) };
    case 'FP32':
      return { fp32_contents: t.data };
    case 'INT32':
      return { int_contents: t.data };
    case 'BOOL':
      return { bool_contents: t.data };
  }
}

export function encodeInferResponse(answer: InferAnswer, parameters: RawParams): ModelInferResponse {
  const raw = flag(parameters, 'binary_data_output') ?? true;
  const outputs: InferOutputTensor[] = answer.outputs.map((t) => ({
    name: t.name,
    datatype: t.datatype,
    shape: t.shape,
    ...(raw ? {} : { contents: typedContents(t) }),
  }));
  return {
    model_name: answer.modelName,
    model_version: answer.modelVersion,
    id: answer.id ?? '',
    parameters: Object.fromEntries(Object.entries(answer.parameters).map(([k, v]) => [k, parameter(k, v)])),
    outputs,
    raw_output_contents: raw ? answer.outputs.map(tensorBytes) : [],
  };
}

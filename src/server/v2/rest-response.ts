/**
 * A REST inference answer: JSON, or, when any output is asked for as binary
 * data, the JSON (its length in Inference-Header-Content-Length) followed by
 * those outputs' bytes in output order.
 */
import type { InferAnswer } from './infer';
import { tensorBytes } from './outputs';

export interface RestAnswer {
  headers: Record<string, string>;
  body: Buffer;
}

export function restAnswer(answer: InferAnswer): RestAnswer {
  const binary: Buffer[] = [];
  const outputs = answer.outputs.map((t) => {
    const head = { name: t.name, datatype: t.datatype, shape: t.shape };
    if (!t.binary) return { ...head, data: t.data };
    const bytes = tensorBytes(t);
    binary.push(bytes);
    return { ...head, parameters: { binary_data_size: bytes.length } };
  });
  const json = Buffer.from(
    JSON.stringify({
      model_name: answer.modelName,
      model_version: answer.modelVersion,
      ...(answer.id === undefined ? {} : { id: answer.id }),
      parameters: answer.parameters,
      outputs,
    }),
    'utf8',
  );
  if (binary.length === 0) return { headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: json };
  return {
    headers: { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(json.length) },
    body: Buffer.concat([json, ...binary]),
  };
}

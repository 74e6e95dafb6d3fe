/**
 * A REST inference answer: JSON, or, when any output is asked for as binary
 * data, the JSON (its length in Inference-Header-Content-Length) followed by
 * those outputs' bytes in output order.
 */
import { boolBytes, float32Bytes, int32Bytes, joinBytesElements } from './datatypes';
import type { InferAnswer } from './infer';
import type { OutputTensor } from './outputs';

export interface RestAnswer {
  headers: Record<string, string>;
  body: Buffer;
}

/** An output's elements as the binary tensor extension lays them out. */
export function tensorBytes(t: OutputTensor): Buffer {
  switch (t.datatype) {
    case 'BYTES':
      return joinBytesElements(t.data.map((s) => Buffer.from(s, 'utf8')));
    case 'FP32':
      return float32Bytes(t.data);
    case 'INT32':
      return int32Bytes(t.data);
    case 'BOOL':
      return boolBytes(t.data);
  }
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

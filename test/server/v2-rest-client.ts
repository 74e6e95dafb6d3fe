/**
 * A small Open Inference Protocol REST client written from the spec and
 * Triton's binary tensor extension (not from the server's code): it frames
 * requests the way tritonclient.http does and splits binary answers.
 */
export interface V2Tensor {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: Record<string, unknown>;
  data?: unknown[];
}

export interface V2Response {
  status: number;
  headers: Headers;
  json: {
    model_name?: string;
    model_version?: string;
    id?: string;
    parameters?: Record<string, unknown>;
    outputs?: V2Tensor[];
    error?: string;
  };
  /** Per output with binary_data_size, its bytes. */
  binary: Map<string, Buffer>;
}

/** A BYTES tensor as binary data: each element a 4-byte little-endian length, then its bytes. */
export function bytesTensor(elements: readonly Uint8Array[]): Buffer {
  return Buffer.concat(
    elements.flatMap((e) => {
      const n = Buffer.alloc(4);
      n.writeUInt32LE(e.length);
      return [n, Buffer.from(e)];
    }),
  );
}

export function fp32Tensor(values: ArrayLike<number>): Buffer {
  const out = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) out.writeFloatLE(values[i] as number, i * 4);
  return out;
}

export function readBytesTensor(data: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at < data.length;) {
    const n = data.readUInt32LE(at);
    out.push(data.subarray(at + 4, at + 4 + n).toString('utf8'));
    at += 4 + n;
  }
  return out;
}

export function readFp32(data: Buffer): number[] {
  return Array.from({ length: data.length / 4 }, (_, i) => data.readFloatLE(i * 4));
}

async function parse(res: Response): Promise<V2Response> {
  const body = Buffer.from(await res.arrayBuffer());
  const headerLength = res.headers.get('inference-header-content-length');
  const jsonLength = headerLength === null ? body.length : Number(headerLength);
  const json = JSON.parse(body.subarray(0, jsonLength).toString('utf8')) as V2Response['json'];
  const binary = new Map<string, Buffer>();
  let at = jsonLength;
  for (const o of json.outputs ?? []) {
    const size = o.parameters?.binary_data_size;
    if (typeof size !== 'number') continue;
    binary.set(o.name, body.subarray(at, at + size));
    at += size;
  }
  if (at !== body.length) throw new Error(`binary answer: ${body.length - at} bytes left over`);
  return { status: res.status, headers: res.headers, json, binary };
}

/** POST an inference: JSON alone, or JSON then `binary` parts (in input order) with Inference-Header-Content-Length. */
export async function inferV2(
  url: string,
  request: Record<string, unknown>,
  binary: readonly Buffer[] = [],
  headers: Record<string, string> = {},
): Promise<V2Response> {
  const json = Buffer.from(JSON.stringify(request), 'utf8');
  const framing: Record<string, string> =
    binary.length > 0 ? { 'Inference-Header-Content-Length': String(json.length) } : { 'Content-Type': 'application/json' };
  const res = await fetch(url, {
    method: 'POST',
    body: Buffer.concat([json, ...binary]),
    headers: { ...framing, ...headers },
    signal: AbortSignal.timeout(20_000),
  });
  return parse(res);
}

export function outputOf(r: V2Response, name: string): V2Tensor {
  const o = r.json.outputs?.find((x) => x.name === name);
  if (!o) throw new Error(`no output ${name} in ${JSON.stringify(r.json)}`);
  return o;
}

/**
 * gRPC clients built with proto-loader and grpc-js as any Node client would,
 * not from the server's TypeScript types: from the upstream definitions
 * (grpc/upstream-protocol.ts: KServe's grpc_predict_v2.proto, the Open
 * Inference Protocol; Triton's grpc_service.proto, what tritonclient uses;
 * grpc.health.v1), and from our proto/inference.proto as docs/api.md shows.
 */
import { join } from 'node:path';
import {
  credentials,
  loadPackageDefinition,
  Metadata,
  type Client,
  type ClientDuplexStream,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { definitionOf, type ProtocolTable } from './grpc/protocol-table';
import { HEALTH, KSERVE, TRITON } from './grpc/upstream-protocol';

/** As a typical Node client loads them: field names as written, int64 as numbers, enums as names. */
const OPTIONS = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };

type Constructor = new (address: string, creds: ReturnType<typeof credentials.createInsecure>, options?: object) => Client;

function serviceClient(definition: PackageDefinition, path: string): Constructor {
  let node: unknown = loadPackageDefinition(definition);
  for (const part of path.split('.')) node = (node as Record<string, unknown>)[part];
  return node as Constructor;
}

const fromTable = (table: ProtocolTable): Constructor => serviceClient(definitionOf(table, OPTIONS), `${table.package}.${table.service}`);

let kserve: Constructor | undefined;
let triton: Constructor | undefined;
let health: Constructor | undefined;
let ours: Constructor | undefined;

export interface Clients {
  kserve: Client;
  triton: Client;
  health: Client;
  /** Built from proto/inference.proto. */
  ours: Client;
  close(): void;
}

export function grpcClients(address: string, options: object = {}): Clients {
  kserve ??= fromTable(KSERVE);
  triton ??= fromTable(TRITON);
  health ??= fromTable(HEALTH);
  ours ??= serviceClient(loadSync(join(__dirname, '..', '..', 'proto', 'inference.proto'), OPTIONS), 'inference.GRPCInferenceService');
  const made = [kserve, triton, health, ours].map((C) => new C(address, credentials.createInsecure(), options));
  return {
    kserve: made[0] as Client,
    triton: made[1] as Client,
    health: made[2] as Client,
    ours: made[3] as Client,
    close: () => made.forEach((c) => c.close()),
  };
}

export type Reply<T> = { ok: true; value: T; trailers: Metadata | undefined } | { ok: false; error: ServiceError };

type UnaryMethod = (
  request: unknown,
  metadata: Metadata,
  options: object,
  callback: (e: ServiceError | null, v: unknown) => void,
) => {
  on(event: 'status', listener: (s: { metadata: Metadata }) => void): void;
};

/** A unary call, settled as a value (never a rejection), with the status trailers. */
export function unary<T = Record<string, unknown>>(
  client: Client,
  method: string,
  request: unknown,
  deadlineMs = 20_000,
): Promise<Reply<T>> {
  return new Promise((resolve) => {
    const fn = (client as unknown as Record<string, UnaryMethod>)[method];
    if (!fn) throw new Error(`no method ${method}`);
    let trailers: Metadata | undefined;
    const call = fn.call(client, request, new Metadata(), { deadline: Date.now() + deadlineMs }, (error, value) => {
      setImmediate(() => resolve(error ? { ok: false, error } : { ok: true, value: value as T, trailers }));
    });
    call.on('status', (s) => (trailers = s.metadata));
  });
}

export function serverStream<T>(client: Client, method: string, request: unknown): ClientReadableStream<T> {
  return (client as unknown as Record<string, (r: unknown) => ClientReadableStream<T>>)[method]?.call(
    client,
    request,
  ) as ClientReadableStream<T>;
}

export function bidiStream<Req, Res>(client: Client, method: string): ClientDuplexStream<Req, Res> {
  return (client as unknown as Record<string, () => ClientDuplexStream<Req, Res>>)[method]?.call(client) as ClientDuplexStream<Req, Res>;
}

/** A BYTES tensor's raw contents: 4-byte little-endian length, then the bytes, per element. */
export function rawBytes(elements: readonly Uint8Array[]): Buffer {
  return Buffer.concat(
    elements.flatMap((e) => {
      const n = Buffer.alloc(4);
      n.writeUInt32LE(e.length);
      return [n, Buffer.from(e)];
    }),
  );
}

export function readRawStrings(data: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at < data.length;) {
    const n = data.readUInt32LE(at);
    out.push(data.subarray(at + 4, at + 4 + n).toString('utf8'));
    at += 4 + n;
  }
  return out;
}

export interface InferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, Record<string, unknown>>;
  outputs: Array<{ name: string; datatype: string; shape: number[]; contents: Record<string, unknown[]> | null }>;
  raw_output_contents: Buffer[];
}

export function rawOutput(r: InferResponse, name: string): Buffer {
  const i = r.outputs.findIndex((o) => o.name === name);
  const raw = r.raw_output_contents[i];
  if (i < 0 || !raw) throw new Error(`no raw output ${name}`);
  return raw;
}

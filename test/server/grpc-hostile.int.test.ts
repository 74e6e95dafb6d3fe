/**
 * Hostile gRPC input: oversized messages, wrong datatypes, shape lies, a
 * decode bomb, garbage and truncated HTTP/2 streams, cancelled calls. Each
 * gets its status, the process stays up, and no batch slot is left held.
 */
import { connect, constants } from 'node:http2';
import { startService, type Service } from '../../src/server';
import { pngDeclaring } from '../preprocess/images';
import { grpcClients, rawBytes, unary, type Clients } from './grpc-client';
import { fixturePngs, testConfig } from './harness';

const MODEL = 'resnet18-fmnist';
const METHOD = '/inference.GRPCInferenceService/ModelInfer';
let service: Service;
let clients: Clients;
let png: Buffer;

beforeAll(async () => {
  // bodyBytes 256 KiB (harness): messages over 256 + 64 KiB are refused by the transport.
  service = await startService({ ...testConfig({ budget: 1 }), grpc: { port: 0 } }, { defaultMetrics: false });
  clients = grpcClients(service.grpc?.address as string, { 'grpc.max_send_message_length': 8 * 1024 * 1024 });
  png = fixturePngs()[0] as Buffer;
});
afterAll(async () => {
  clients?.close();
  await service?.close();
});

const depth = (): number | undefined => service.models.get(MODEL)?.classifier.depth;

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const infer = (input: Record<string, unknown>, raw?: Buffer): Record<string, unknown> => ({
  model_name: MODEL,
  inputs: [input],
  ...(raw ? { raw_input_contents: [raw] } : {}),
});

async function statusOf(request: Record<string, unknown>): Promise<[number, string]> {
  const r = await unary(clients.kserve, 'ModelInfer', request);
  return r.ok ? [0, 'answered'] : [r.error.code, r.error.details];
}

/** One gRPC call written by hand on HTTP/2: `frames` as sent, then the stream ended or reset. */
function rawCall(frames: Buffer, finish: 'end' | 'reset'): Promise<{ status: string | undefined; message: string | undefined }> {
  return new Promise((resolve, reject) => {
    const session = connect(`http://${service.grpc?.address}`);
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': METHOD, 'content-type': 'application/grpc', te: 'trailers' });
    let headers: Record<string, unknown> = {};
    req.on('response', (h) => (headers = { ...h }));
    req.on('trailers', (t) => (headers = { ...headers, ...t }));
    req.on('data', () => undefined);
    req.on('error', () => undefined);
    req.on('close', () => {
      session.close();
      resolve({ status: headers['grpc-status'] as string | undefined, message: headers['grpc-message'] as string | undefined });
    });
    req.write(frames);
    if (finish === 'end') req.end();
    else setTimeout(() => req.close(constants.NGHTTP2_CANCEL), 50);
  });
}

function frame(message: Buffer, declared = message.length): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(declared, 1);
  return Buffer.concat([head, message]);
}

describe('hostile gRPC input', () => {
  afterEach(async () => {
    // Whatever happened, the service still answers, and holds no batch slot.
    await until(() => depth() === 0);
    expect((await unary(clients.kserve, 'ServerLive', {})).ok).toBe(true);
  });

  test('a message over the size limit is RESOURCE_EXHAUSTED before it is decoded', async () => {
    const [code, details] = await statusOf(
      infer({ name: 'image', datatype: 'BYTES', shape: [1] }, rawBytes([Buffer.alloc(400 * 1024, 7)])),
    );
    expect(code).toBe(8);
    expect(details).toMatch(/larger than max/i);
  });

  test('a message holding more values than the most images allowed need is RESOURCE_EXHAUSTED before it is decoded; the largest real one passes', async () => {
    // filesPerRequest 16 x 1024 elements: at most 2 x 16,384 + 10,000 values; 50,000 floats are 200 KB, within the size limit.
    const flood = await statusOf(
      infer({ name: 'input', datatype: 'FP32', shape: [1, 1, 32, 32], contents: { fp32_contents: new Array<number>(50_000).fill(0.5) } }),
    );
    expect(flood).toEqual([8, expect.stringMatching(/^BODY_TOO_LARGE: the request holds more than 42768 values/)]);
    const largest = await statusOf(
      infer({
        name: 'input',
        datatype: 'FP32',
        shape: [16, 1, 32, 32],
        contents: { fp32_contents: new Array<number>(16 * 1024).fill(0.5) },
      }),
    );
    expect(largest).toEqual([0, 'answered']);
    expect(depth()).toBe(0);
  });

  test('shape lies are INVALID_ARGUMENT: more elements than sent, a negative dimension, a tensor of the wrong shape or size, cut framing', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [infer({ name: 'image', datatype: 'BYTES', shape: [1e12] }, rawBytes([png])), /holds more elements than the request carries/],
      [infer({ name: 'image', datatype: 'BYTES', shape: [-1] }, rawBytes([png])), /shape dimensions must be integers >= 0/],
      [infer({ name: 'image', datatype: 'BYTES', shape: [3] }, rawBytes([png])), /holds 3 elements, the data hold 1/],
      [infer({ name: 'input', datatype: 'FP32', shape: [1, 3, 32, 32] }, Buffer.alloc(4096)), /must have shape \[N, 1, 32, 32\]/],
      [infer({ name: 'input', datatype: 'FP32', shape: [2, 1, 32, 32] }, Buffer.alloc(4096)), /holds 2048 elements, the data hold 1024/],
      [infer({ name: 'input', datatype: 'FP32', shape: [1, 1, 32, 32] }, Buffer.alloc(4095)), /not a whole number of FP32 values/],
      [infer({ name: 'image', datatype: 'BYTES', shape: [1] }, Buffer.from([9, 0, 0, 0, 1, 2])), /says 9 bytes, only 2 remain/],
    ];
    for (const [request, message] of cases) expect(await statusOf(request)).toEqual([3, expect.stringMatching(message)]);
  });

  test('wrong datatypes are INVALID_ARGUMENT naming the datatype wanted', async () => {
    for (const [name, datatype, want] of [
      ['image', 'INT64', 'BYTES'],
      ['input', 'FP64', 'FP32'],
      ['pixels', 'INT8', 'UINT8'],
      ['image', '', 'BYTES'],
    ]) {
      expect(await statusOf(infer({ name, datatype, shape: [1] }, Buffer.alloc(8)))).toEqual([
        3,
        expect.stringContaining(`input "${name}" must have datatype ${want}`),
      ]);
    }
  });

  test('a decode bomb (a tiny PNG declaring 20000 x 20000) is refused from its header: INVALID_ARGUMENT TOO_MANY_PIXELS', async () => {
    const bomb = await pngDeclaring(20000, 20000);
    const [code, details] = await statusOf(infer({ name: 'image', datatype: 'BYTES', shape: [2] }, rawBytes([png, bomb])));
    expect([code, details]).toEqual([3, expect.stringMatching(/^TOO_MANY_PIXELS: input image 1/)]);
  });

  test('garbage protobuf, a truncated message and a stream reset mid-message never reach the handler', async () => {
    const garbage = await rawCall(frame(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x0a])), 'end');
    expect(garbage.status).toBe('13'); // INTERNAL: the request could not be parsed
    const truncated = await rawCall(frame(Buffer.alloc(10, 1), 1000), 'end');
    // grpc-js answers a unary call whose message never completes with an error status (UNIMPLEMENTED in 1.14).
    expect(truncated.status).toMatch(/^[1-9]\d*$/);
    expect(decodeURIComponent(truncated.message ?? '')).toMatch(/no request message/);
    const reset = await rawCall(frame(Buffer.alloc(10, 1), 1000), 'reset');
    // The client hung up first: no status comes back, and the handler never ran (afterEach: nothing queued).
    expect(reset.status).toBeUndefined();
  });

  test('a call cancelled while its images wait in the queue, or past its deadline, leaves no row queued or charged', async () => {
    const s = await startService(
      { ...testConfig({ batching: { maxBatch: 8, maxWaitMs: 60_000, maxQueue: 64 } }), grpc: { port: 0 } },
      { defaultMetrics: false },
    );
    const c = grpcClients(s.grpc?.address as string);
    try {
      const entry = s.models.get(MODEL);
      const call = (
        c.kserve as unknown as Record<string, (r: unknown, cb: (e: Error | null) => void) => { cancel(): void }>
      ).ModelInfer?.call(c.kserve, infer({ name: 'image', datatype: 'BYTES', shape: [3] }, rawBytes([png, png, png])), () => undefined);
      await until(() => entry?.classifier.depth === 3);
      call?.cancel();
      await until(() => entry?.classifier.depth === 0);
      const late = await unary(c.kserve, 'ModelInfer', infer({ name: 'image', datatype: 'BYTES', shape: [1] }, rawBytes([png])), 300);
      expect(late.ok ? 'answered' : late.error.code).toBe(4); // DEADLINE_EXCEEDED
      await until(() => entry?.classifier.depth === 0);
      expect(entry?.model.routing.ledger?.snapshot()).toEqual(expect.objectContaining({ images: 0, openReservations: 0 }));
    } finally {
      c.close();
      await s.close();
    }
  });
});

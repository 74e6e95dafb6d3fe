import { Client, credentials, type ServiceError } from '@grpc/grpc-js';
import { startService, type Service } from '../../src/server';
import { call, fixturePngs, metricSum, testConfig } from './harness';
import { bidiStream, grpcClients, rawBytes, rawOutput, readRawStrings, unary, type Clients, type InferResponse } from './grpc-client';
import { TRITON_UNSERVED_METHOD } from './grpc/upstream-protocol';
import { inferV2, outputOf } from './v2-rest-client';

let service: Service;
let clients: Clients;
let pngs: Buffer[];
const MODEL = 'resnet18-fmnist';

beforeAll(async () => {
  service = await startService({ ...testConfig({ budget: 1 }), grpc: { port: 0 } }, { defaultMetrics: false });
  clients = grpcClients(service.grpc?.address as string);
  pngs = fixturePngs();
});
afterAll(async () => {
  clients?.close();
  await service?.close();
});

const imageInfer = (images: Buffer[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  model_name: MODEL,
  inputs: [{ name: 'image', datatype: 'BYTES', shape: [images.length] }],
  raw_input_contents: [rawBytes(images)],
  ...extra,
});

async function restVerdicts(images: Buffer[], parameters: Record<string, unknown> = {}): Promise<{ labels: unknown[]; exits: unknown[] }> {
  const r = await inferV2(`${service.url}/v2/models/${MODEL}/infer`, {
    inputs: [{ name: 'image', datatype: 'BYTES', shape: [images.length], data: images.map((b) => b.toString('base64')) }],
    parameters,
  });
  return { labels: outputOf(r, 'label').data ?? [], exits: outputOf(r, 'exit').data ?? [] };
}

describe("inference.GRPCInferenceService with clients built from KServe's and Triton's definitions", () => {
  test('server live, ready and metadata (with the extensions); model ready and metadata with both input forms', async () => {
    const k = clients.kserve;
    expect(await unary(k, 'ServerLive', {})).toMatchObject({ ok: true, value: { live: true } });
    expect(await unary(k, 'ServerReady', {})).toMatchObject({ ok: true, value: { ready: true } });
    const meta = await unary<{ name: string; extensions: string[] }>(k, 'ServerMetadata', {});
    expect(meta.ok && meta.value.name).toBe('eero-serve');
    expect(meta.ok && meta.value.extensions).toEqual(expect.arrayContaining(['binary_tensor_data', 'classification']));
    expect(await unary(k, 'ModelReady', { name: MODEL, version: '1' })).toMatchObject({ ok: true, value: { ready: true } });
    const model = await unary<{ name: string; versions: string[]; inputs: Array<{ name: string; datatype: string; shape: number[] }> }>(
      k,
      'ModelMetadata',
      { name: MODEL },
    );
    expect(model.ok && model.value).toMatchObject({ name: MODEL, versions: ['1'], platform: 'eero' });
    expect(model.ok && model.value.inputs).toEqual([
      { name: 'image', datatype: 'BYTES', shape: [-1] },
      { name: 'input', datatype: 'FP32', shape: [-1, 1, 32, 32] },
      { name: 'pixels', datatype: 'UINT8', shape: [-1, 1, 32, 32] },
    ]);
  });

  test('an unknown model or version is NOT_FOUND with the error code in the trailers', async () => {
    for (const [method, request] of [
      ['ModelMetadata', { name: 'nope' }],
      ['ModelReady', { name: MODEL, version: '3' }],
      ['ModelInfer', imageInfer([pngs[0] as Buffer], { model_name: 'nope' })],
      ['ModelInfer', imageInfer([pngs[0] as Buffer], { model_version: '2' })],
    ] as const) {
      const r = await unary(clients.kserve, method, request);
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.error.code).toBe(5); // NOT_FOUND
      expect(r.error.metadata.get('eero-error-code')[0]).toMatch(/^(UNKNOWN_MODEL|NOT_FOUND)$/);
    }
  });

  test('ModelInfer on raw_input_contents answers label, probabilities and exit as REST does', async () => {
    const images = pngs.slice(0, 3);
    const r = await unary<InferResponse>(clients.kserve, 'ModelInfer', imageInfer(images, { id: 'g-1' }));
    if (!r.ok) throw r.error;
    expect(r.value).toMatchObject({ model_name: MODEL, model_version: '1', id: 'g-1' });
    expect(r.value.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ['label', 'BYTES', [3]],
      ['probabilities', 'FP32', [3, 10]],
      ['exit', 'INT32', [3]],
      ['cost_fraction', 'FP32', [3]],
      ['forced', 'BOOL', [3]],
    ]);
    const exits = rawOutput(r.value, 'exit');
    const rest = await restVerdicts(images);
    expect(readRawStrings(rawOutput(r.value, 'label'))).toEqual(rest.labels);
    expect([0, 1, 2].map((i) => exits.readInt32LE(i * 4))).toEqual(rest.exits);
  });

  test('typed contents in (bytes_contents, fp32_contents, uint_contents) and out (binary_data_output false)', async () => {
    const png = pngs[2] as Buffer;
    const loaded = service.models.get(MODEL)?.model;
    const tensor = (await loaded!.preprocessor.preprocess(png, { limitInputPixels: 1e6 })).data;
    const typedOut = { parameters: { binary_data_output: { bool_param: false } } };
    const byBytes = await unary<InferResponse>(clients.kserve, 'ModelInfer', {
      model_name: MODEL,
      inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [png] } }],
      ...typedOut,
    });
    const byTensor = await unary<InferResponse>(clients.kserve, 'ModelInfer', {
      model_name: MODEL,
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 1, 32, 32], contents: { fp32_contents: Array.from(tensor) } }],
      ...typedOut,
    });
    if (!byBytes.ok || !byTensor.ok) throw new Error('inference failed');
    for (const r of [byBytes, byTensor]) {
      expect(r.value.raw_output_contents).toEqual([]);
      expect(r.value.outputs.find((o) => o.name === 'label')?.contents?.bytes_contents?.map(String)).toEqual(
        (await restVerdicts([png])).labels,
      );
    }
    const probs = (r: InferResponse): unknown => r.outputs.find((o) => o.name === 'probabilities')?.contents?.fp32_contents;
    expect(probs(byTensor.value)).toEqual(probs(byBytes.value));
  });

  test('the same routing parameters as REST: budget, topk, trace; outputs named and classification', async () => {
    const images = pngs.slice(0, 2);
    const r = await unary<InferResponse>(
      clients.kserve,
      'ModelInfer',
      imageInfer(images, {
        parameters: { budget: { string_param: '0.4' }, topk: { int64_param: 2 }, trace: { bool_param: true } },
        outputs: [
          { name: 'exit' },
          { name: 'topk_labels' },
          { name: 'trace' },
          { name: 'probabilities', parameters: { classification: { int64_param: 3 } } },
        ],
      }),
    );
    if (!r.ok) throw r.error;
    expect(r.value.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ['exit', 'INT32', [2]],
      ['topk_labels', 'BYTES', [2, 2]],
      ['trace', 'BYTES', [2]],
      ['probabilities', 'BYTES', [2, 3]],
    ]);
    const exits = rawOutput(r.value, 'exit');
    expect([exits.readInt32LE(0), exits.readInt32LE(4)]).toEqual((await restVerdicts(images, { budget: 0.4 })).exits);
    expect(readRawStrings(rawOutput(r.value, 'probabilities'))[0]).toMatch(/^[0-9.e-]+:\d:[^:]+$/);
    expect(JSON.parse(readRawStrings(rawOutput(r.value, 'trace'))[0] as string)).toEqual(expect.any(Array));
    // The spec's InferParameter has no double: fractions come back as their decimal text.
    expect(r.value.parameters).toMatchObject({ budget_rule: { string_param: 'eero' }, budget_fraction: { string_param: '0.4' } });
  });

  test("a Triton-proto client sends float parameters as double_param (which the spec lacks); the answer is the spec's", async () => {
    const r = await unary<InferResponse>(
      clients.triton,
      'ModelInfer',
      imageInfer([pngs[0] as Buffer], { parameters: { budget: { double_param: 0.4 } } }),
    );
    if (!r.ok) throw r.error;
    expect(r.value.parameters.budget_fraction).toMatchObject({ string_param: '0.4' });
    expect(r.value.parameters.thresholds_version).toMatchObject({ int64_param: 1 });
  });

  test('bad inputs are INVALID_ARGUMENT naming the problem; the service answers on afterwards', async () => {
    const k = clients.kserve;
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [imageInfer([Buffer.from('not an image')]), /^NOT_AN_IMAGE: input image 0/],
      [
        imageInfer([pngs[0] as Buffer], { parameters: { budget: { string_param: '150%' } } }),
        /^BAD_PARAMETER: budget: fraction must be in \(0, 1\], got 1.5/,
      ],
      [
        { ...imageInfer([pngs[0] as Buffer]), inputs: [{ name: 'image', datatype: 'FP32', shape: [1] }] },
        /^BAD_PARAMETER: input "image" must have datatype BYTES/,
      ],
      [
        { ...imageInfer([pngs[0] as Buffer]), inputs: [{ name: 'image', datatype: 'BYTES', shape: [2] }] },
        /^BAD_REQUEST: input "image": shape \[2\] holds 2 elements, the data hold 1/,
      ],
      [
        { model_name: MODEL, inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 1, 32, 32], contents: { int_contents: [1] } }] },
        /^BAD_REQUEST: input "input" \(FP32\): its data go in contents.fp32_contents, not contents.int_contents/,
      ],
      [
        {
          model_name: MODEL,
          inputs: [{ name: 'pixels', datatype: 'UINT8', shape: [1, 1, 32, 32], contents: { uint_contents: new Array(1024).fill(256) } }],
        },
        /element 0 is 256/,
      ],
      [
        {
          ...imageInfer([pngs[0] as Buffer]),
          inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [pngs[0]] } }],
        },
        /raw_input_contents or in contents, not both/,
      ],
      [{ model_name: MODEL, inputs: [] }, /^BAD_PARAMETER: "inputs" must hold exactly one tensor/],
    ];
    for (const [request, message] of cases) {
      const r = await unary(k, 'ModelInfer', request);
      expect(r.ok ? 'answered' : [r.error.code, r.error.details]).toEqual([3, expect.stringMatching(message)]);
    }
    expect((await unary(k, 'ModelInfer', imageInfer([pngs[0] as Buffer]))).ok).toBe(true);
  });

  test('ModelStreamInfer answers each streamed request, an error as error_message, and ends when the client does', async () => {
    const stream = bidiStream<Record<string, unknown>, { error_message: string; infer_response: InferResponse | null }>(
      clients.triton,
      'ModelStreamInfer',
    );
    const answers: Array<{ error_message: string; infer_response: InferResponse | null }> = [];
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('data', (a: { error_message: string; infer_response: InferResponse | null }) => answers.push(a));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    stream.write(imageInfer([pngs[0] as Buffer], { id: 'a' }));
    stream.write(imageInfer([Buffer.from('junk')], { id: 'b' }));
    stream.write(imageInfer(pngs.slice(1, 3), { id: 'c' }));
    // More values than any request needs: refused before decoding, and the stream goes on.
    stream.write({
      model_name: MODEL,
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 1, 32, 32], contents: { fp32_contents: new Array<number>(50_000).fill(0) } }],
    });
    stream.end();
    await ended;
    expect(answers.map((a) => a.infer_response?.id ?? a.error_message.split(':')[0]).sort()).toEqual([
      'BODY_TOO_LARGE',
      'NOT_AN_IMAGE',
      'a',
      'c',
    ]);
  });

  test('gRPC requests are counted with protocol="grpc" beside REST ones', async () => {
    const before = await metricSum(service.url, 'eero_requests_total', {
      protocol: 'grpc',
      route: '/inference.GRPCInferenceService/ModelInfer',
      status: '200',
    });
    expect((await unary(clients.kserve, 'ModelInfer', imageInfer([pngs[0] as Buffer]))).ok).toBe(true);
    expect(
      await metricSum(service.url, 'eero_requests_total', {
        protocol: 'grpc',
        route: '/inference.GRPCInferenceService/ModelInfer',
        status: '200',
      }),
    ).toBe(before + 1);
    expect(await metricSum(service.url, 'eero_requests_total', { protocol: 'rest', route: '/metrics' })).toBeGreaterThan(0);
    expect((await call(`${service.url}/healthz`)).status).toBe(200);
  });

  test('grpc.health.v1 Check: SERVING for "" and the inference service, NOT_FOUND for others', async () => {
    expect(await unary(clients.health, 'Check', { service: '' })).toMatchObject({ ok: true, value: { status: 'SERVING' } });
    expect(await unary(clients.health, 'Check', { service: 'inference.GRPCInferenceService' })).toMatchObject({
      ok: true,
      value: { status: 'SERVING' },
    });
    const unknown = await unary(clients.health, 'Check', { service: 'other' });
    expect(unknown.ok ? 'answered' : unknown.error.code).toBe(5);
  });

  test('a client built from our proto/inference.proto (as docs/api.md shows) gets the labels REST gives', async () => {
    const images = pngs.slice(3, 5);
    const r = await unary<InferResponse>(clients.ours, 'ModelInfer', imageInfer(images, { outputs: [{ name: 'label' }] }));
    if (!r.ok) throw r.error;
    expect(readRawStrings(rawOutput(r.value, 'label'))).toEqual((await restVerdicts(images)).labels);
  });

  test("a method of Triton's service we do not serve (ModelConfig) is UNIMPLEMENTED, and the service answers on", async () => {
    const raw = new Client(service.grpc?.address as string, credentials.createInsecure());
    const bytes = (b: Buffer): Buffer => b;
    // An empty message is a valid ModelConfigRequest (every field at its default).
    const error = await new Promise<ServiceError | null>((resolve) => {
      raw.makeUnaryRequest(`/inference.GRPCInferenceService/${TRITON_UNSERVED_METHOD}`, bytes, bytes, Buffer.alloc(0), (e) => resolve(e));
    });
    raw.close();
    expect(error?.code).toBe(12); // UNIMPLEMENTED
    expect(await unary(clients.triton, 'ServerLive', {})).toMatchObject({ ok: true, value: { live: true } });
  });
});

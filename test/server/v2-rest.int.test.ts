import sharp from 'sharp';
import type { Service } from '../../src/server';
import { call, fixturePngs, startTestService } from './harness';
import { bytesTensor, fp32Tensor, inferV2, outputOf, readBytesTensor, readFp32, type V2Response } from './v2-rest-client';

let service: Service;
let base: string;
let pngs: Buffer[];
const MODEL = 'resnet18-fmnist';

beforeAll(async () => {
  service = await startTestService({ limits: { filesPerRequest: 16 }, budget: 1 });
  base = service.url;
  pngs = fixturePngs();
});
afterAll(() => service?.close());

const inferUrl = (path = `/v2/models/${MODEL}`): string => `${base}${path}/infer`;

function imageRequest(images: Buffer[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    inputs: [{ name: 'image', datatype: 'BYTES', shape: [images.length], data: images.map((b) => b.toString('base64')) }],
    ...extra,
  };
}

/** The bundle's own preprocessing of a PNG: the FP32 tensor a client that preprocesses itself would send. */
async function preprocessed(png: Buffer): Promise<Float32Array> {
  const loaded = service.models.get(MODEL)?.model;
  if (!loaded) throw new Error('no model');
  return (await loaded.preprocessor.preprocess(png, { limitInputPixels: 1e6 })).data;
}

/** A 28x28 gray fixture as raw pixels at the model's 32x32, padded by 2 with the background (black), CHW. */
async function rawPixels(png: Buffer): Promise<Uint8Array> {
  const raw = await sharp(png).greyscale().extend({ top: 2, bottom: 2, left: 2, right: 2, background: '#000' }).raw().toBuffer();
  expect(raw.length).toBe(32 * 32);
  return new Uint8Array(raw);
}

const verdicts = (r: V2Response): Array<[unknown, unknown]> => {
  const labels = outputOf(r, 'label').data ?? [];
  const exits = outputOf(r, 'exit').data ?? [];
  return labels.map((l, i) => [l, exits[i]]);
};

describe('Open Inference Protocol over REST: server, versions and errors', () => {
  test('GET /v2 is the server metadata and names the extensions (binary_tensor_data, classification)', async () => {
    const res = await call<{ name: string; version: string; extensions: string[] }>(`${base}/v2`);
    expect(res.status).toBe(200);
    expect(res.body.name).toBe('eero-serve');
    expect(res.body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(res.body.extensions).toEqual(expect.arrayContaining(['binary_tensor_data', 'classification']));
  });

  test('the versioned routes answer for version 1; any other version is a 404 in the spec error shape', async () => {
    const v1 = `${base}/v2/models/${MODEL}/versions/1`;
    expect((await call<{ name: string; versions: string[] }>(v1)).body).toMatchObject({ name: MODEL, versions: ['1'] });
    expect((await call(`${v1}/ready`)).status).toBe(200);
    const ok = await inferV2(inferUrl(`/v2/models/${MODEL}/versions/1`), imageRequest([pngs[0] as Buffer]));
    expect(ok.status).toBe(200);
    expect(ok.json.model_version).toBe('1');
    for (const r of [
      await call<{ error: string }>(`${base}/v2/models/${MODEL}/versions/2`),
      await call<{ error: string }>(`${base}/v2/models/${MODEL}/versions/2/ready`),
    ]) {
      expect(r.status).toBe(404);
      expect(r.body.error).toMatch(/^NOT_FOUND: model resnet18-fmnist has no version "2"/);
    }
    const infer = await inferV2(inferUrl(`/v2/models/${MODEL}/versions/7`), imageRequest([pngs[0] as Buffer]));
    expect([infer.status, infer.json.error?.split(':')[0]]).toEqual([404, 'NOT_FOUND']);
  });

  test('every v2 route errs in the spec shape {"error": string}: unknown route 404, wrong method 405 with Allow', async () => {
    const unknown = await call<{ error: unknown }>(`${base}/v2/models/${MODEL}/stats`);
    expect(unknown.status).toBe(404);
    expect(typeof unknown.body.error).toBe('string');
    const method = await call<{ error: unknown }>(`${base}/v2/models/${MODEL}/versions/1/infer`);
    expect(method.status).toBe(405);
    expect(method.headers.get('allow')).toBe('POST');
    expect(typeof method.body.error).toBe('string');
    const v1 = await call<{ error: { code: string } }>(`${base}/v1/nothing`);
    expect(v1.body.error.code).toBe('NOT_FOUND');
  });
});

describe('Open Inference Protocol over REST: outputs, binary data and classification', () => {
  test('only the outputs named come back, in the order named', async () => {
    const res = await inferV2(inferUrl(), imageRequest(pngs.slice(0, 2), { outputs: [{ name: 'exit' }, { name: 'label' }] }));
    expect(res.status).toBe(200);
    expect(res.json.outputs?.map((o) => o.name)).toEqual(['exit', 'label']);
    const bad = await inferV2(inferUrl(), imageRequest(pngs.slice(0, 1), { outputs: [{ name: 'logits' }] }));
    expect([bad.status, bad.json.error]).toEqual([400, expect.stringMatching(/^BAD_REQUEST: unknown output "logits"/)]);
  });

  test('binary inputs (BYTES: 4-byte length + bytes) and binary outputs give the same answer as JSON', async () => {
    const images = pngs.slice(0, 3);
    const json = await inferV2(inferUrl(), imageRequest(images));
    const binary = await inferV2(
      inferUrl(),
      {
        inputs: [{ name: 'image', datatype: 'BYTES', shape: [3, 1], parameters: { binary_data_size: bytesTensor(images).length } }],
        outputs: [
          { name: 'label', parameters: { binary_data: true } },
          { name: 'probabilities', parameters: { binary_data: true } },
          { name: 'exit' },
        ],
      },
      [bytesTensor(images)],
    );
    expect(binary.status).toBe(200);
    expect(binary.headers.get('content-type')).toBe('application/octet-stream');
    expect(Number(binary.headers.get('inference-header-content-length'))).toBeGreaterThan(0);
    expect(outputOf(binary, 'label').parameters?.binary_data_size).toBe(binary.binary.get('label')?.length);
    expect(readBytesTensor(binary.binary.get('label') as Buffer)).toEqual(outputOf(json, 'label').data);
    const probs = readFp32(binary.binary.get('probabilities') as Buffer);
    (outputOf(json, 'probabilities').data as number[]).forEach((p, i) => expect(probs[i]).toBeCloseTo(p, 6));
    expect(outputOf(binary, 'exit').data).toEqual(outputOf(json, 'exit').data);
  });

  test('binary_data_output asks for every output as binary data', async () => {
    const res = await inferV2(inferUrl(), imageRequest([pngs[0] as Buffer], { parameters: { binary_data_output: true } }));
    expect(res.status).toBe(200);
    expect([...res.binary.keys()]).toEqual(['label', 'probabilities', 'exit', 'cost_fraction', 'forced']);
    expect(res.binary.get('forced')?.length).toBe(1);
    expect(res.binary.get('exit')?.readInt32LE(0)).toBeGreaterThanOrEqual(1);
  });

  test('classification on probabilities returns "value:index:label" strings, best first, [n, count]', async () => {
    const res = await inferV2(
      inferUrl(),
      imageRequest(pngs.slice(0, 2), { outputs: [{ name: 'probabilities', parameters: { classification: 3 } }, { name: 'label' }] }),
    );
    expect(res.status).toBe(200);
    const c = outputOf(res, 'probabilities');
    expect(c).toMatchObject({ datatype: 'BYTES', shape: [2, 3] });
    const rows = (c.data as string[]).map((s) => s.split(':'));
    expect(rows.every((r) => r.length === 3)).toBe(true);
    expect([rows[0]?.[2], rows[3]?.[2]]).toEqual(outputOf(res, 'label').data);
    expect(Number(rows[0]?.[0])).toBeGreaterThanOrEqual(Number(rows[1]?.[0]));
    const bad = await inferV2(
      inferUrl(),
      imageRequest([pngs[0] as Buffer], { outputs: [{ name: 'exit', parameters: { classification: 2 } }] }),
    );
    expect([bad.status, bad.json.error?.split(':')[0]]).toEqual([422, 'BAD_PARAMETER']);
  });

  test('binary framing errors are 400s: a length past the body, sizes that disagree, a cut BYTES element', async () => {
    const png = pngs[0] as Buffer;
    const framed = bytesTensor([png]);
    const head = (size: number): Record<string, unknown> => ({
      inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: size } }],
    });
    const cases = [
      await inferV2(inferUrl(), head(framed.length + 5), [framed]),
      await inferV2(inferUrl(), head(framed.length - 3), [framed.subarray(0, framed.length - 3)]),
      await inferV2(inferUrl(), head(framed.length), [framed], { 'Inference-Header-Content-Length': '999999' }),
      await inferV2(inferUrl(), imageRequest([png]), [Buffer.from('extra')]),
    ];
    for (const r of cases) expect([r.status, r.json.error?.split(':')[0]]).toEqual([400, 'BAD_REQUEST']);
    // More elements than the shape says (here 50,000 empty ones) are refused as the framing is read, not after.
    const flood = Buffer.concat([framed, Buffer.alloc(200_000)]);
    const more = await inferV2(inferUrl(), head(flood.length), [flood]);
    expect([more.status, more.json.error]).toEqual([
      400,
      expect.stringMatching(/^BAD_REQUEST: input "image": the data hold more than the 1 BYTES elements the shape says/),
    ]);
  });
});

describe('Open Inference Protocol over REST: tensor inputs (already preprocessed pixels)', () => {
  test('an FP32 tensor of the model input shape answers as the encoded image does, in JSON and binary', async () => {
    const images = pngs.slice(0, 2);
    const tensors = await Promise.all(images.map(preprocessed));
    const flat = Float32Array.from(tensors.flatMap((t) => Array.from(t)));
    const byImage = await inferV2(inferUrl(), imageRequest(images));
    const json = await inferV2(inferUrl(), {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 1, 32, 32], data: Array.from(flat) }],
    });
    const binary = await inferV2(
      inferUrl(),
      { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 1, 32, 32], parameters: { binary_data_size: flat.length * 4 } }] },
      [fp32Tensor(flat)],
    );
    for (const r of [json, binary]) {
      expect(r.status).toBe(200);
      expect(verdicts(r)).toEqual(verdicts(byImage));
      expect(outputOf(r, 'probabilities').data).toEqual(outputOf(byImage, 'probabilities').data);
    }
  });

  test('a UINT8 tensor of raw pixels is normalised by the server: the same answer as the image', async () => {
    const png = pngs[1] as Buffer;
    const pixels = await rawPixels(png);
    const res = await inferV2(inferUrl(), {
      inputs: [{ name: 'pixels', datatype: 'UINT8', shape: [1, 1, 32, 32], data: Array.from(pixels) }],
    });
    expect(res.status).toBe(200);
    const byImage = await inferV2(inferUrl(), imageRequest([png]));
    expect(outputOf(res, 'probabilities').data).toEqual(outputOf(byImage, 'probabilities').data);
  });

  test('tensors with a wrong shape, size, datatype or value get a clear 4xx naming what is wrong', async () => {
    const t = (shape: number[], data: unknown[], name = 'input', datatype = 'FP32'): Promise<V2Response> =>
      inferV2(inferUrl(), { inputs: [{ name, datatype, shape, data }] });
    const zeros = (n: number): number[] => new Array<number>(n).fill(0);
    const cases: Array<[Promise<V2Response>, number, RegExp]> = [
      [t([1, 1, 28, 28], zeros(784)), 400, /^BAD_REQUEST: input "input" must have shape \[N, 1, 32, 32\]/],
      [t([1, 1, 32, 32], zeros(1000)), 400, /^BAD_REQUEST: input "input": shape \[1,1,32,32\] holds 1024 elements, the data hold 1000/],
      [t([2, 1, 32, 32], zeros(1024)), 400, /holds 2048 elements/],
      [t([1, 1, 32, 32], [...zeros(1023), 'x']), 400, /element 1023 is "x", not a finite number/],
      [t([1, 1, 32, 32], [...zeros(1023), 300], 'pixels', 'UINT8'), 400, /element 1023 is 300, not an integer 0\.\.255/],
      [t([1, 1, 32, 32], zeros(1024), 'input', 'FP64'), 422, /^BAD_PARAMETER: input "input" must have datatype FP32, got "FP64"/],
      [t([1, 1, 32, 32], zeros(1024), 'logits'), 422, /^BAD_PARAMETER: unknown input "logits"; send one of image/],
      [t([1, 1, 32, 32], zeros(1024), 'constructor'), 422, /^BAD_PARAMETER: unknown input "constructor"/],
      [t([1e9, 1e9, 1, 1], [0]), 400, /holds more elements than the request carries/],
      [t([0, 1, 32, 32], []), 400, /^EMPTY_INPUT/],
      [t([17, 1, 32, 32], zeros(17 * 1024)), 413, /^TOO_MANY_FILES/],
    ];
    for (const [answer, status, message] of cases) {
      const r = await answer;
      expect({ status: r.status, error: r.json.error }).toEqual({ status, error: expect.stringMatching(message) });
    }
    // A NaN has no JSON form; as binary data it is refused by the pipeline, for that image.
    const nan = new Float32Array(1024).fill(0.5);
    nan[7] = NaN;
    const res = await inferV2(
      inferUrl(),
      { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 1, 32, 32], parameters: { binary_data_size: 4096 } }] },
      [fp32Tensor(nan)],
    );
    expect([res.status, res.json.error]).toEqual([
      400,
      expect.stringMatching(/^BAD_REQUEST: input image 0: .*non-finite value \(NaN\) at element 7/),
    ]);
    expect(service.models.get(MODEL)?.classifier.depth).toBe(0);
  });

  test('data nested as deep as a shape of 15,000 ones are walked without recursion: a 4xx for what they hold, not a 500', async () => {
    const depth = 15_000;
    const body = `{"inputs":[{"name":"image","datatype":"BYTES","shape":[${new Array<number>(depth).fill(1).join(',')}],"data":${'['.repeat(depth - 1)}"QUJD"${']'.repeat(depth - 1)}}]}`;
    const res = await fetch(inferUrl(), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    const json = (await res.json()) as { error?: string };
    expect([res.status, json.error]).toEqual([400, expect.stringMatching(/^NOT_AN_IMAGE: input image 0:/)]);
  });

  test('JSON holding more values than the most images allowed need is 413 before it is parsed; the largest real request passes', async () => {
    const limit = 16; // filesPerRequest in this service
    const nested = (rows: number): number[][][][] =>
      Array.from({ length: rows }, () => [Array.from({ length: 32 }, () => new Array<number>(32).fill(0.5))]);
    const largest = await inferV2(inferUrl(), {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [limit, 1, 32, 32], data: nested(limit) }],
    });
    expect([largest.status, largest.json.error]).toEqual([200, undefined]);
    expect(outputOf(largest, 'exit').data).toHaveLength(limit);
    // The flood hides where the schema never looks; a valid input beside it does not let it through.
    const flood = await inferV2(inferUrl(), {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 1, 32, 32], data: nested(1) }],
      parameters: { junk: new Array<number>(2 * limit * 1024 + 10_001).fill(0) },
    });
    expect([flood.status, flood.json.error]).toEqual([
      413,
      expect.stringMatching(/^BODY_TOO_LARGE: the JSON holds more than 42768 values/),
    ]);
    // Too many images are refused from the shape, before the data are read.
    const many = await inferV2(inferUrl(), {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [limit + 1, 1, 32, 32], data: [] }],
      parameters: { pad: 'x'.repeat(80_000) },
    });
    expect([many.status, many.json.error]).toEqual([413, expect.stringMatching(/^TOO_MANY_FILES: more than 16 images/)]);
  });
});

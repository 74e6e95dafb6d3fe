import type { Service } from '../../src/server';
import { call, fixturePngs, postImage, startTestService, type ImageJson } from './harness';

let service: Service;
let base: string;
let pngs: Buffer[];

beforeAll(async () => {
  service = await startTestService({ limits: { filesPerRequest: 16 }, budget: 1 });
  base = service.url;
  pngs = fixturePngs();
});
afterAll(() => service?.close());

interface V2Output {
  name: string;
  datatype: string;
  shape: number[];
  data: Array<string | number | boolean>;
}
interface V2Answer {
  model_name: string;
  id?: string;
  outputs: V2Output[];
  error?: string;
}

function infer(body: unknown, model = 'resnet18-fmnist', contentType = 'application/json'): ReturnType<typeof call<V2Answer>> {
  return call<V2Answer>(`${base}/v2/models/${model}/infer`, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': contentType },
  });
}

function imagesRequest(images: Buffer[], parameters: Record<string, unknown> = {}): unknown {
  return {
    id: 'req-1',
    inputs: [{ name: 'image', datatype: 'BYTES', shape: [images.length], data: images.map((b) => b.toString('base64')) }],
    parameters,
  };
}

const output = (a: V2Answer, name: string): V2Output => {
  const o = a.outputs.find((x) => x.name === name);
  if (!o) throw new Error(`no output ${name}`);
  return o;
};

describe('KServe Open Inference Protocol v2', () => {
  test('health, model metadata and model readiness', async () => {
    expect((await call(`${base}/v2/health/live`)).status).toBe(200);
    expect((await call(`${base}/v2/health/ready`)).status).toBe(200);
    const meta = await call<{
      name: string;
      platform: string;
      inputs: unknown[];
      outputs: Array<{ name: string; datatype: string; shape: number[] }>;
    }>(`${base}/v2/models/resnet18-fmnist`);
    expect(meta.status).toBe(200);
    expect(meta.body.platform).toBe('eero');
    // Encoded images first, then the two tensor forms of the model's input (a request sends one of them).
    expect(meta.body.inputs).toEqual([
      { name: 'image', datatype: 'BYTES', shape: [-1] },
      { name: 'input', datatype: 'FP32', shape: [-1, 1, 32, 32] },
      { name: 'pixels', datatype: 'UINT8', shape: [-1, 1, 32, 32] },
    ]);
    const k = service.models.get('resnet18-fmnist')?.model.labels.length;
    expect(meta.body.outputs.slice(0, 3)).toEqual([
      { name: 'label', datatype: 'BYTES', shape: [-1] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, k] },
      { name: 'exit', datatype: 'INT32', shape: [-1] },
    ]);
    expect((await call(`${base}/v2/models/resnet18-fmnist/ready`)).status).toBe(200);
  });

  test('infer on base64 images answers label, full probabilities and exit per image, matching /v1/classify', async () => {
    const images = pngs.slice(0, 3);
    const res = await infer(imagesRequest(images, { budget: 1, topk: 2, trace: true }));
    expect(res.status).toBe(200);
    expect(res.body.model_name).toBe('resnet18-fmnist');
    expect(res.body.id).toBe('req-1');
    const k = service.models.get('resnet18-fmnist')?.model.labels.length as number;
    const labels = output(res.body, 'label');
    const probs = output(res.body, 'probabilities');
    const exits = output(res.body, 'exit');
    expect(labels).toMatchObject({ datatype: 'BYTES', shape: [3] });
    expect(probs).toMatchObject({ datatype: 'FP32', shape: [3, k] });
    expect(exits).toMatchObject({ datatype: 'INT32', shape: [3] });
    expect(output(res.body, 'topk_labels').shape).toEqual([3, 2]);
    expect(output(res.body, 'trace').data).toHaveLength(3);
    for (let i = 0; i < 3; i++) {
      const row = probs.data.slice(i * k, (i + 1) * k) as number[];
      expect(row.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 5);
      const v1 = (await postImage<ImageJson>(base, images[i] as Buffer, '?budget=1')).body;
      expect(exits.data[i]).toBe(v1.exit);
      expect(labels.data[i]).toBe(v1.label);
    }
  });

  test('v2 errors are {"error": "CODE: message"} with the same statuses', async () => {
    const cases: Array<[Promise<{ status: number; body: V2Answer }>, number, string]> = [
      [infer(imagesRequest([pngs[0] as Buffer]), 'nope'), 404, 'UNKNOWN_MODEL'],
      [infer(imagesRequest([Buffer.from('plain text, not an image')])), 400, 'NOT_AN_IMAGE'],
      [infer(imagesRequest([pngs[0] as Buffer], { budget: 0.01 })), 422, 'BUDGET_INFEASIBLE'],
      [infer({ inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: ['***'] }] }), 422, 'BAD_PARAMETER'],
      [infer({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1], data: [1] }] }), 422, 'BAD_PARAMETER'],
      [infer({ inputs: [] }), 422, 'BAD_PARAMETER'],
      [infer(''), 400, 'EMPTY_INPUT'],
      [infer(imagesRequest([pngs[0] as Buffer]), 'resnet18-fmnist', 'application/octet-stream'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [infer(imagesRequest(Array.from({ length: 17 }, () => pngs[0] as Buffer))), 413, 'TOO_MANY_FILES'],
      [
        call<V2Answer>(`${base}/v2/models/resnet18-fmnist/infer`, {
          method: 'POST',
          body: '{not json',
          headers: { 'content-type': 'application/json' },
        }),
        422,
        'BAD_PARAMETER',
      ],
      [call<V2Answer>(`${base}/v2/models/nope/ready`), 404, 'UNKNOWN_MODEL'],
    ];
    for (const [answer, status, code] of cases) {
      const res = await answer;
      expect({ status: res.status, start: res.body.error?.split(':')[0] }).toEqual({ status, start: code });
    }
    // A bad image among good ones fails the whole inference (all or nothing) and names its index.
    const mixed = await infer(imagesRequest([pngs[0] as Buffer, Buffer.alloc(0)]));
    expect(mixed.status).toBe(400);
    expect(mixed.body.error).toMatch(/^EMPTY_INPUT: input image 1:/);
    expect((await infer(imagesRequest([pngs[0] as Buffer]))).status).toBe(200);
  });
});

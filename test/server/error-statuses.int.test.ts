import sharp from 'sharp';
import type { Service } from '../../src/server';
import { noiseBytes, pngDeclaring } from '../preprocess/images';
import { call, fixturePngs, postFiles, postImage, startTestService, type Answer } from './harness';

let service: Service;
let base: string;
let good: Buffer;
const BODY_BYTES = 256 * 1024;

beforeAll(async () => {
  service = await startTestService({ limits: { bodyBytes: BODY_BYTES, filesPerRequest: 16 } });
  base = service.url;
  good = fixturePngs()[0] as Buffer;
});
afterAll(() => service?.close());

interface ErrorJson {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** The answer has the status and code, and the server still classifies a good image afterwards. */
async function expectError(answer: Promise<Answer<ErrorJson>>, status: number, code: string): Promise<ErrorJson['error']> {
  const res = await answer;
  expect({ status: res.status, code: res.body.error?.code }).toEqual({ status, code });
  expect(typeof res.body.error.message).toBe('string');
  expect((await postImage(base, good)).status).toBe(200);
  return res.body.error;
}

describe('every refusal has its status and code, and the server keeps serving', () => {
  test('garbage bytes sent as an image: 400 NOT_AN_IMAGE', async () => {
    await expectError(postImage(base, noiseBytes(2000, 7), '', 'application/octet-stream'), 400, 'NOT_AN_IMAGE');
  });

  test('a truncated PNG and a truncated JPEG: 400 CORRUPT_IMAGE', async () => {
    const png = await sharp(noiseBytes(64 * 64, 3), { raw: { width: 64, height: 64, channels: 1 } })
      .png()
      .toBuffer();
    await expectError(postImage(base, png.subarray(0, png.length >> 1)), 400, 'CORRUPT_IMAGE');
    const jpeg = await sharp(good).resize(64, 64).jpeg().toBuffer();
    await expectError(postImage(base, jpeg.subarray(0, jpeg.length >> 1), '', 'image/jpeg'), 400, 'CORRUPT_IMAGE');
  });

  test('a decompression bomb (a tiny PNG declaring 20000x20000) is refused from its header: 413 TOO_MANY_PIXELS', async () => {
    const bomb = await pngDeclaring(20000, 20000);
    expect(bomb.length).toBeLessThan(200);
    await expectError(postImage(base, bomb), 413, 'TOO_MANY_PIXELS');
  });

  test('a zero-byte body: 400 EMPTY_INPUT', async () => {
    await expectError(postImage(base, Buffer.alloc(0)), 400, 'EMPTY_INPUT');
  });

  test('text sent as text/plain: 415 UNSUPPORTED_MEDIA_TYPE (the same bytes as octet-stream: 400 NOT_AN_IMAGE)', async () => {
    const text = Buffer.from('hello, this is not an image\n');
    await expectError(postImage(base, text, '', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    await expectError(postImage(base, text, '', 'application/octet-stream'), 400, 'NOT_AN_IMAGE');
  });

  test('a recognised but refused format (BMP): 415 UNSUPPORTED_FORMAT', async () => {
    const bmp = Buffer.concat([Buffer.from('BM'), Buffer.alloc(12), Buffer.from([40, 0, 0, 0]), Buffer.alloc(40)]);
    await expectError(postImage(base, bmp, '', 'image/bmp'), 415, 'UNSUPPORTED_FORMAT');
  });

  test('a body over limits.bodyBytes: 413 BODY_TOO_LARGE', async () => {
    const error = await expectError(
      postImage(base, noiseBytes(BODY_BYTES + 1000, 5), '', 'application/octet-stream'),
      413,
      'BODY_TOO_LARGE',
    );
    expect(error.details).toMatchObject({ limitBytes: BODY_BYTES });
  });

  test('a chunked body (no Content-Length) that grows past limits.bodyBytes: 413 BODY_TOO_LARGE', async () => {
    const chunk = noiseBytes(64 * 1024, 11);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > 2 * BODY_BYTES) controller.close();
        else controller.enqueue(chunk);
        sent += chunk.length;
      },
    });
    const init = { method: 'POST', body, duplex: 'half', headers: { 'content-type': 'application/octet-stream' } } as RequestInit;
    await expectError(call(`${base}/v1/classify`, init), 413, 'BODY_TOO_LARGE');
  });

  test('100 files in one multipart request: 413 TOO_MANY_FILES', async () => {
    const files = Array.from({ length: 100 }, (_, i) => ({ name: `${i}.png`, bytes: good }));
    const error = await expectError(postFiles(base, files), 413, 'TOO_MANY_FILES');
    expect(error.details).toMatchObject({ limit: 16 });
  });

  test('a multipart request with no file: 400 EMPTY_INPUT', async () => {
    await expectError(postFiles(base, [], { budget: '0.5' }), 400, 'EMPTY_INPUT');
  });

  test('budgets out of range or unparseable: 422 BAD_PARAMETER', async () => {
    for (const budget of ['0', '-0.5', '150%', 'lots', '1e16']) {
      await expectError(postImage(base, good, `?budget=${encodeURIComponent(budget)}`), 422, 'BAD_PARAMETER');
    }
  });

  test('a budget below the cheapest exit: 422 BUDGET_INFEASIBLE naming the feasible budget', async () => {
    const costs = service.models.get('resnet18-fmnist')?.model.costs;
    const cheapest = (costs?.costs[0] as number) / (costs?.full as number);
    const error = await expectError(postImage(base, good, `?budget=${cheapest / 2}`), 422, 'BUDGET_INFEASIBLE');
    expect(error.message).toContain('cheapest feasible budget');
    expect(error.details?.cheapestFeasibleFraction).toBeCloseTo(cheapest, 12);
    // MACs with a suffix are read as written: 0.5M is 500000 MACs (a message once said "5 MACs").
    expect((await expectError(postImage(base, good, '?budget=0.5M'), 422, 'BUDGET_INFEASIBLE')).message).toMatch(/^budget 500000 MACs /);
    // A MACs budget below exit 1 likewise.
    await expectError(postImage(base, good, `?budget=${Math.floor((costs?.macs[0] as number) / 2)}`), 422, 'BUDGET_INFEASIBLE');
  });

  test('bad topk, trace or score: 422 BAD_PARAMETER; a repeated parameter too', async () => {
    await expectError(postImage(base, good, '?topk=0'), 422, 'BAD_PARAMETER');
    await expectError(postImage(base, good, '?topk=two'), 422, 'BAD_PARAMETER');
    await expectError(postImage(base, good, '?trace=maybe'), 422, 'BAD_PARAMETER');
    await expectError(postImage(base, good, '?score=vibes'), 422, 'BAD_PARAMETER');
    await expectError(postImage(base, good, '?budget=0.5&budget=0.6'), 422, 'BAD_PARAMETER');
  });

  test('an unknown model: 404 UNKNOWN_MODEL; an unknown route: 404 NOT_FOUND', async () => {
    await expectError(postImage(base, good, '?model=nope'), 404, 'UNKNOWN_MODEL');
    await expectError(call(`${base}/v1/nothing-here`), 404, 'NOT_FOUND');
    // A known path with the wrong method is a 405 that says which methods it takes.
    const wrong = await call<ErrorJson>(`${base}/v1/classify`);
    expect([wrong.status, wrong.body.error.code, wrong.headers.get('allow')]).toEqual([405, 'METHOD_NOT_ALLOWED', 'POST']);
    const del = await call<ErrorJson>(`${base}/v1/models`, { method: 'DELETE' });
    expect([del.status, del.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
  });

  test('errors are counted by code in /metrics', async () => {
    const text = (await call<string>(`${base}/metrics`)).body;
    for (const code of [
      'NOT_AN_IMAGE',
      'CORRUPT_IMAGE',
      'TOO_MANY_PIXELS',
      'EMPTY_INPUT',
      'UNSUPPORTED_MEDIA_TYPE',
      'BODY_TOO_LARGE',
      'TOO_MANY_FILES',
      'BAD_PARAMETER',
      'BUDGET_INFEASIBLE',
      'UNKNOWN_MODEL',
    ]) {
      expect(text).toMatch(new RegExp(`eero_errors_total\\{code="${code}"\\} [1-9]`));
    }
    expect(text).toMatch(/eero_requests_total\{route="\/v1\/classify",status="413",protocol="rest"\} [1-9]/);
  });
});

/** A real service on 127.0.0.1 (ephemeral port) over the shipped ResNet bundle, and small HTTP helpers. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultServeConfig, type ServeConfig } from '../../src/config';
import { startService, type Service, type ServiceOptions } from '../../src/server';
import { RESNET_BUNDLE } from '../support/bundles';

export interface TestConfig {
  batching?: Partial<ServeConfig['batching']>;
  limits?: Partial<ServeConfig['limits']>;
  shutdown?: Partial<ServeConfig['shutdown']>;
  budget?: number;
}

/** Light on the shared cores: one intra-op thread; limits small enough to test cheaply. */
export function testConfig(over: TestConfig = {}): ServeConfig {
  const d = defaultServeConfig();
  return {
    ...d,
    port: 0,
    host: '127.0.0.1',
    models: [{ name: 'resnet18-fmnist', path: RESNET_BUNDLE, ...(over.budget === undefined ? {} : { budget: { fraction: over.budget } }) }],
    batching: { maxBatch: 16, maxWaitMs: 2, maxQueue: 256, ...over.batching },
    limits: {
      ...d.limits,
      bodyBytes: 256 * 1024,
      inputPixels: 4_000_000,
      filesPerRequest: 16,
      // Only a bound on a hang: a busy machine must not turn slow answers into 503s (tests that test the timeout set their own).
      requestTimeoutMs: 120_000,
      decodeTimeoutSeconds: 10,
      ...over.limits,
    },
    engine: { intraOpThreads: 1, interOpThreads: 1, executionProvider: 'cpu', graph: 'auto' },
    shutdown: { drainMs: 0, ...over.shutdown },
  };
}

export function startTestService(over: TestConfig = {}, options: ServiceOptions = {}): Promise<Service> {
  // The rule without a measurement (path-choice.ts): which path a small batch takes does not hang on timing.
  return startService(testConfig(over), { defaultMetrics: false, paths: { graphFrom: 2 }, ...options });
}

const FIXTURES = join(RESNET_BUNDLE, 'fixtures');

/** The bundle's fixture PNGs (Fashion-MNIST test images). */
export function fixturePngs(): Buffer[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((f) => readFileSync(join(FIXTURES, f)));
}

export interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

export async function call<T = Record<string, unknown>>(url: string, init: RequestInit = {}): Promise<Answer<T>> {
  // The bound only ends a hang: a busy machine answers slowly, not wrongly.
  const res = await fetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(120_000) });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, headers: res.headers, body: (type.includes('json') ? JSON.parse(text) : text) as T };
}

export function postImage<T = Record<string, unknown>>(
  base: string,
  bytes: Uint8Array,
  query = '',
  contentType = 'image/png',
): Promise<Answer<T>> {
  return call<T>(`${base}/v1/classify${query}`, { method: 'POST', body: bytes, headers: { 'content-type': contentType } });
}

export function postFiles<T = Record<string, unknown>>(
  base: string,
  files: Array<{ name: string; bytes: Uint8Array; type?: string }>,
  fields: Record<string, string> = {},
  query = '',
): Promise<Answer<T>> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  for (const f of files) form.append('image', new Blob([f.bytes], { type: f.type ?? 'image/png' }), f.name);
  return call<T>(`${base}/v1/classify${query}`, { method: 'POST', body: form });
}

/** One sample of the Prometheus text at /metrics, summed over the series matching every given label. */
export async function metricSum(base: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = (await call<string>(`${base}/metrics`)).body;
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const ls = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => ls.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

/** Runs `task(i)` for i < n with at most `concurrency` at once. */
export async function pool<T>(n: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await task(i);
      }
    }),
  );
  return out;
}

export interface ImageJson {
  label: string;
  probability: number;
  topk: Array<{ label: string; probability: number }>;
  exit: number;
  exits: number;
  cost: { macs: number; fraction: number };
  forced: boolean;
  budget: { limit: number; requested: number; rule: string; thresholdsVersion: number };
  stoppedBy: string;
  timings: { queueMs: number; preprocessMs: number; inferenceMs: number; batchSize: number };
  trace?: Array<{ exit: number; score: number; label: string; probability: number }>;
}

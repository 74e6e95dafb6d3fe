/**
 * Overload: does the engine work only for requests that get an answer?
 * 64-image multipart requests at 64 connections against a real `eero serve`
 * process; clients honour Retry-After (or retry at once with --retry now).
 * Reported: the share of the images the engine ran that belonged to requests
 * answered 200 (eero_inference_images_total against the images in 200s).
 * Usage: node dist/benchmarks/overload.js [--main dist/src/cli/main.js] [--seconds 15] [--connections 64] [--images 64] [--retry after|now]
 * --main lets the same client measure another build (e.g. an older commit's dist/).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './support/options';

interface Tally {
  requests: number;
  ok: number;
  refused: number;
  other: number;
  imagesAnswered: number;
}

function startServer(main: string): Promise<{ url: string; stop: () => Promise<void> }> {
  // Run from the build's own checkout, with its own bundles.
  const cwd = path.resolve(path.dirname(main), '..', '..', '..');
  const child = spawn(process.execPath, [main, 'serve', '--port', '0', '--host', '127.0.0.1', '--budget', '0.5'], {
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 60_000);
    child.stderr.on('data', (c: Buffer) => {
      log += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m?.[1]) {
        clearTimeout(timer);
        const stop = (): Promise<void> =>
          new Promise((done) => {
            child.once('exit', () => done());
            child.kill('SIGKILL');
          });
        resolve({ url: m[1], stop });
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}):\n${log}`)));
  });
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

async function worker(url: string, images: Buffer[], until: number, retry: 'after' | 'now', t: Tally): Promise<void> {
  while (Date.now() < until) {
    const form = new FormData();
    images.forEach((b, i) => form.append('image', new Blob([b], { type: 'image/png' }), `${i}.png`));
    t.requests++;
    let res: Response;
    try {
      res = await fetch(`${url}/v1/classify`, { method: 'POST', body: form, signal: AbortSignal.timeout(30_000) });
    } catch {
      t.other++;
      continue;
    }
    const body = (await res.json()) as { results?: Array<{ error?: unknown }> };
    if (res.status === 200) {
      t.ok++;
      t.imagesAnswered += (body.results ?? []).filter((r) => r.error === undefined).length;
    } else if (res.status === 503) {
      t.refused++;
      const wait = retry === 'after' ? Number(res.headers.get('retry-after') ?? '1') * 1000 : 0;
      if (wait > 0) await new Promise((r) => setTimeout(r, Math.min(wait, until - Date.now())));
    } else t.other++;
  }
}

export async function runOverload(
  main: string,
  seconds: number,
  connections: number,
  perRequest: number,
  retry: 'after' | 'now',
): Promise<string> {
  const fixtures = path.join(REPO_ROOT, 'models', 'resnet18-fmnist', 'fixtures');
  const pngs = readdirSync(fixtures)
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((f) => readFileSync(path.join(fixtures, f)));
  const images = Array.from({ length: perRequest }, (_, i) => pngs[i % pngs.length] as Buffer);
  const server = await startServer(main);
  try {
    const t: Tally = { requests: 0, ok: 0, refused: 0, other: 0, imagesAnswered: 0 };
    const until = Date.now() + seconds * 1000;
    await Promise.all(Array.from({ length: connections }, () => worker(server.url, images, until, retry, t)));
    // Let the engine finish what it took before reading its counter.
    await new Promise((r) => setTimeout(r, 3000));
    const engine = await metric(server.url, 'eero_inference_images_total');
    const share = engine === 0 ? NaN : t.imagesAnswered / engine;
    return [
      `| build | retry | requests | 200 | 503 | other | images answered 200 | images the engine ran | share of engine images answered |`,
      `|---|---|---:|---:|---:|---:|---:|---:|---:|`,
      `| ${path.relative(REPO_ROOT, main)} | ${retry} | ${t.requests} | ${t.ok} | ${t.refused} | ${t.other} | ${t.imagesAnswered} | ${engine} | ${(100 * share).toFixed(1)}% |`,
    ].join('\n');
  } finally {
    await server.stop();
  }
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      main: { type: 'string', default: path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js') },
      seconds: { type: 'string', default: '15' },
      connections: { type: 'string', default: '64' },
      images: { type: 'string', default: '64' },
      retry: { type: 'string', default: 'after' },
    },
  });
  const retry = values.retry === 'now' ? 'now' : 'after';
  runOverload(path.resolve(values.main), Number(values.seconds), Number(values.connections), Number(values.images), retry).then(
    (table) => process.stdout.write(`${table}\n`),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}

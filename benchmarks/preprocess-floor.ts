/**
 * Read + decode + preprocess of the Fashion-MNIST test PNGs against sharp's
 * decode-only floor (`sharp(buf).raw().toBuffer()`, one at a time, one
 * libvips thread), in one run: CPU time (process.cpuUsage, every thread)
 * beside wall time, per image, and each as a ratio to the floor. Also the
 * sharp path as the project runs it when the fast path declines, the fast
 * path alone on bytes in memory, reading the files alone, and zlib's inflate
 * of the IDAT data alone (the floor of any PNG decoder). Variants take turns
 * in blocks of files, the order rotating every block, so drift hits all alike.
 * Usage: node dist/benchmarks/preprocess-floor.js [--dir benchmarks/data/fmnist-test] [--count 10000]
 *   [--block 500] [--compare other/dist/src/preprocess/index.js] [--out benchmarks/results/preprocess-floor.md]
 * --compare adds another build's preprocessInto (e.g. the commit before the fast path) on the same files.
 */
import { existsSync, promises as fs, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { markdownTable } from '../src/cli/report/tables';
import { configureSharp, createPreprocessor, type Preprocessor } from '../src/preprocess';
import { walkPng } from '../src/preprocess/png-chunks';
import { tryPngFastPath } from '../src/preprocess/png-fast-path';
import { compileInputSpec } from '../src/preprocess/input-plan';
import { loadBundle } from '../src/config';
import { writeFmnistPngs } from './fmnist-pngs';
import { REPO_ROOT } from './support/options';

interface Variant {
  name: string;
  /** Runs the variant over files [from, to). */
  run: (from: number, to: number) => Promise<void>;
  cpu: number;
  wall: number;
}

const LIMITS = { limitInputPixels: 40_000_000 };

function listPngs(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((f) => path.join(dir, f));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string', default: path.join(REPO_ROOT, 'benchmarks', 'data', 'fmnist-test') },
      count: { type: 'string', default: '10000' },
      block: { type: 'string', default: '500' },
      compare: { type: 'string' },
      out: { type: 'string', default: path.join(REPO_ROOT, 'benchmarks', 'results', 'preprocess-floor.md') },
    },
  });
  const count = Number(values.count);
  if (!existsSync(values.dir) || listPngs(values.dir).length < count) await writeFmnistPngs(values.dir, count);
  const files = listPngs(values.dir).slice(0, count);
  const bytes = await Promise.all(files.map((f) => fs.readFile(f)));
  const spec = (await loadBundle(path.join(REPO_ROOT, 'models', 'resnet18-fmnist'))).manifest.input;
  // The service's sharp settings: one libvips thread per image, no operation cache, only the accepted loaders.
  configureSharp();
  const pre = createPreprocessor(spec);
  const plan = compileInputSpec(spec);
  const tensor = new Float32Array(pre.imageLength);
  const idat = bytes.map((b) => Buffer.concat(walkPng(b, true)?.idat ?? []));
  const other =
    values.compare === undefined
      ? undefined
      : (require(path.resolve(values.compare)) as { createPreprocessor: (s: unknown) => Preprocessor });
  const otherPre = other?.createPreprocessor(spec);

  const each = async (from: number, to: number, fn: (i: number) => unknown): Promise<void> => {
    for (let i = from; i < to; i++) await fn(i);
  };
  const variant = (name: string, fn: (i: number) => unknown): Variant => ({
    name,
    run: (from, to) => each(from, to, fn),
    cpu: 0,
    wall: 0,
  });
  const read = (i: number): Promise<Buffer> => fs.readFile(files[i] as string);
  const variants: Variant[] = [
    variant('sharp decode only (the floor): `sharp(buf).raw().toBuffer()`', (i) =>
      sharp(bytes[i] as Buffer)
        .raw()
        .toBuffer(),
    ),
    variant('**project: read + decode + preprocess** (`fs.promises.readFile`, `preprocessInto`)', async (i) =>
      pre.preprocessInto(await read(i), tensor, 0, LIMITS),
    ),
    variant('project, fast path off: read + one sharp pipeline + preprocess', async (i) =>
      pre.preprocessInto(await read(i), tensor, 0, { ...LIMITS, fastPath: false }),
    ),
    ...(otherPre
      ? [
          variant(`--compare ${values.compare}: read + decode + preprocess`, async (i) =>
            otherPre.preprocessInto(await read(i), tensor, 0, LIMITS),
          ),
        ]
      : []),
    variant('read alone (`fs.promises.readFile`)', read),
    variant('fast path alone, bytes in memory (chunks, CRCs, inflate, unfilter, normalise)', (i) =>
      tryPngFastPath(bytes[i] as Buffer, plan, tensor, 0),
    ),
    variant('zlib inflate of the IDAT data alone', (i) => inflateSync(idat[i] as Buffer)),
  ];

  // One warm-up block each, not counted.
  for (const v of variants) await v.run(0, Math.min(200, files.length));
  const block = Number(values.block);
  for (let from = 0, turn = 0; from < files.length; from += block, turn++) {
    const to = Math.min(files.length, from + block);
    for (let k = 0; k < variants.length; k++) {
      const v = variants[(turn + k) % variants.length] as Variant;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await v.run(from, to);
      const c = process.cpuUsage(c0);
      v.wall += performance.now() - t0;
      v.cpu += (c.user + c.system) / 1000;
    }
  }
  const n = files.length;
  const floor = variants[0] as Variant;
  const rows = variants.map((v) => [
    v.name,
    (v.cpu / n).toFixed(4),
    (v.cpu / floor.cpu).toFixed(3),
    (v.wall / n).toFixed(4),
    (v.wall / floor.wall).toFixed(3),
  ]);
  const text = [
    '# Preprocessing against its floors',
    '',
    `\`node dist/benchmarks/preprocess-floor.js --count ${n} --block ${block}${values.compare ? ` --compare ${values.compare}` : ''}\``,
    `${new Date().toISOString()}; node ${process.version}; ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}); load average ${loadavg()[0]?.toFixed(1)} at the end; ` +
      `sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}), one libvips thread per image.`,
    '',
    `The ${n} Fashion-MNIST test images as 28x28 8-bit gray PNG files (\`benchmarks/fmnist-pngs.ts\`), the ResNet bundle's input spec (pad to 32x32, normalise), ` +
      `one image at a time. Every variant runs over the same files, in blocks of ${block} taking turns (the order rotating each block), after one warm-up block each. ` +
      'CPU is `process.cpuUsage()` of this process (every thread); per image in milliseconds, and as a ratio to the floor. Target: read + decode + preprocess at most 1.25x the floor.',
    '',
    markdownTable(['variant', 'CPU ms / image', 'CPU vs floor', 'wall ms / image', 'wall vs floor'], rows),
    '',
  ].join('\n');
  writeFileSync(values.out, text);
  process.stdout.write(text);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}

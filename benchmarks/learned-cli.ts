/**
 * The learned score through the real CLI (issue 18's end-to-end check): `eero classify` on the
 * 10,000 Fashion-MNIST test images as PNG files, ledger on, default (shuffled) order, with
 * `--score learned` against `--score margin` at the same budget; and the same on shifted images
 * (each pixel + uniform noise in [-15, 15], then dimmed x 0.7, seeded), where early exits collapse.
 * Usage: npm run build && node dist/benchmarks/learned-cli.js [--budgets 0.25,0.5] [--bundles resnet18-fmnist,convnext-fmnist]
 * Results: benchmarks/results/learned-cli.md.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { mulberry32 } from '../src/router';
import { FMNIST_DIR, readIdx, writeFmnistPngs } from './fmnist-pngs';
import { encodeGrayPng } from './support/png';

const CLEAN = 'benchmarks/data/fmnist-test';
const SHIFTED = 'benchmarks/data/fmnist-test-noise15-dim07';

/** The test images with seeded uniform noise in [-15, 15] per pixel, then x 0.7, clamped to 0..255. */
async function writeShifted(out: string): Promise<void> {
  const images = readIdx(path.join(FMNIST_DIR, 't10k-images-idx3-ubyte.gz'));
  const labels = readIdx(path.join(FMNIST_DIR, 't10k-labels-idx1-ubyte.gz'));
  const [n, h, w] = images.dims as [number, number, number];
  const rand = mulberry32(15);
  for (let i = 0; i < n; i++) {
    const dir = path.join(out, String(labels.data[i]));
    const file = path.join(dir, `${String(i).padStart(5, '0')}.png`);
    const px = Uint8Array.from(images.data.subarray(i * h * w, (i + 1) * h * w), (v) => {
      const noisy = v + Math.round(30 * rand() - 15);
      return Math.max(0, Math.min(255, Math.round(0.7 * noisy)));
    });
    if (existsSync(file)) continue;
    mkdirSync(dir, { recursive: true });
    await encodeGrayPng(px, w, h, file);
  }
}

interface Run {
  bundle: string;
  data: string;
  budget: number;
  score: string;
  accuracy: number;
  realised: number;
  forced: number;
  seconds: number;
}

function classify(bundle: string, data: string, budget: number, score: string, out: string): Run {
  const t0 = process.hrtime.bigint();
  const text = execFileSync(
    process.execPath,
    [
      'dist/src/cli/main.js',
      'classify',
      data,
      '--model',
      `models/${bundle}`,
      '--budget',
      String(budget),
      '--score',
      score,
      '--out',
      out,
      '--fresh',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 26 },
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const num = (re: RegExp): number => Number((re.exec(text)?.[1] ?? 'NaN').replace(/,/g, ''));
  return {
    bundle,
    data,
    budget,
    score,
    accuracy: num(/accuracy ([\d.]+)%/),
    realised: num(/realised average cost ([\d.]+)%/),
    forced: num(/; ([\d,]+) exits forced/),
    seconds,
  };
}

async function main(): Promise<void> {
  const arg = (name: string, dflt: string): string => {
    const i = process.argv.indexOf(name);
    return i > 0 ? (process.argv[i + 1] ?? dflt) : dflt;
  };
  const budgets = arg('--budgets', '0.25,0.5').split(',').map(Number);
  const bundles = arg('--bundles', 'resnet18-fmnist,convnext-fmnist').split(',');
  await writeFmnistPngs(CLEAN);
  await writeShifted(SHIFTED);
  const tmp = mkdtempSync(path.join(tmpdir(), 'eero-learned-cli-'));
  const runs: Run[] = [];
  try {
    for (const bundle of bundles)
      for (const data of [CLEAN, SHIFTED])
        for (const budget of budgets)
          for (const score of ['margin', 'learned']) {
            const r = classify(bundle, data, budget, score, path.join(tmp, 'r.jsonl'));
            process.stderr.write(
              `${bundle} ${path.basename(data)} ${budget} ${score}: ${r.accuracy}% at ${r.realised}%, ${r.forced} forced\n`,
            );
            runs.push(r);
          }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const rows = runs
    .filter((r) => r.score === 'learned')
    .map((l) => {
      const m = runs.find((r) => r.score === 'margin' && r.bundle === l.bundle && r.data === l.data && r.budget === l.budget) as Run;
      const images = l.data === CLEAN ? 'clean' : 'noise ±15, dimmed x0.7';
      return `| ${l.bundle} | ${images} | ${l.budget} | ${m.accuracy.toFixed(2)} (${m.realised.toFixed(2)}%, ${m.forced} forced) | ${l.accuracy.toFixed(2)} (${l.realised.toFixed(2)}%, ${l.forced} forced) | ${(l.accuracy - m.accuracy >= 0 ? '+' : '') + (l.accuracy - m.accuracy).toFixed(2)} |`;
    });
  const md = [
    '# The learned score through the CLI',
    '',
    `\`npm run build && node dist/benchmarks/learned-cli.js${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}\` on ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), ${new Date().toISOString().slice(0, 10)}.`,
    '',
    '`eero classify` on the 10,000 Fashion-MNIST test images as PNG files (one folder per class, so the summary reports accuracy),',
    'ledger on, default shuffled order, `--score margin` (EERO) against `--score learned` at the same `--budget`. The shifted',
    'set adds seeded uniform noise in [-15, 15] to every pixel and dims it x 0.7. Accuracy % (realised cost % of the full',
    'model, exits the ledger forced).',
    '',
    '| bundle | images | budget | EERO margin | learned | learned - margin (pt) |',
    '|---|---|---:|---:|---:|---:|',
    ...rows,
    '',
  ].join('\n');
  writeFileSync('benchmarks/results/learned-cli.md', md);
  process.stdout.write(md);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});

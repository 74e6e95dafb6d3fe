/**
 * The benchmark suite: every section in turn (each also runs alone), then
 * benchmarks/results/README.md with the headline numbers and links.
 * Usage: npm run bench [-- --quick] [-- --only accuracy,speed] [-- --threads N]
 *   --quick  tiny sizes, no speed judgements (< 1 minute); writes benchmarks/results/quick/
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { runAccuracy } from './accuracy';
import { runE2e } from './e2e';
import { runSpeed } from './speed';
import { runStageOverhead } from './stage-overhead';
import { runThresholdCache } from './threshold-cache';
import { REPO_ROOT, runMain, type BenchOptions } from './support/options';
import { provenance, shout, writeOutput, type SectionResult } from './support/report';

const run = promisify(execFile);

/** benchmarks/http-load.ts (the HTTP service under autocannon), run as its own process when it is built. */
async function runHttpLoad(o: BenchOptions): Promise<SectionResult> {
  const entry = path.join(REPO_ROOT, 'dist', 'benchmarks', 'http-load.js');
  const file = path.join(o.outDir, 'http-load.md');
  if (!existsSync(entry)) {
    return {
      section: 'http-load',
      file: '',
      extraFiles: [],
      headlines: ['skipped: dist/benchmarks/http-load.js is not built (benchmarks/http-load.ts absent)'],
      warnings: [],
    };
  }
  const { stdout } = await run(process.execPath, [entry, '--seconds', o.quick ? '1' : '5', '--reps', '1', '--out', file], {
    cwd: REPO_ROOT,
    maxBuffer: 1 << 24,
  });
  process.stderr.write(stdout);
  // Best req/s per mode, from the report's table rows: | connections | mode | req/s | p50 | p99 | ...
  const best = new Map<string, [number, string, string]>();
  for (const m of readFileSync(file, 'utf8').matchAll(/^\| (\d+) \| ([^|]+?) \| (\d+) \| (\d+) \| (\d+) \|/gm)) {
    const [, conns, mode, rps, p50, p99] = m as unknown as string[];
    if (Number(rps) > (best.get(mode as string)?.[0] ?? -1))
      best.set(mode as string, [Number(rps), conns as string, `p50 ${p50} ms, p99 ${p99} ms`]);
  }
  const headlines = [...best].map(([mode, [rps, conns, lat]]) => `${mode}: best ${rps} req/s at ${conns} connections (${lat})`);
  return { section: 'http-load', file, extraFiles: [], headlines: headlines.length ? headlines : ['see the report'], warnings: [] };
}

const SECTIONS: Record<string, (o: BenchOptions) => Promise<SectionResult>> = {
  accuracy: runAccuracy,
  speed: runSpeed,
  e2e: runE2e,
  'threshold-cache': runThresholdCache,
  'stage-overhead': runStageOverhead,
  'http-load': runHttpLoad,
};

export async function runAll(o: BenchOptions): Promise<SectionResult[]> {
  const names = o.only ?? Object.keys(SECTIONS);
  const unknown = names.filter((n) => !(n in SECTIONS));
  if (unknown.length) throw new Error(`unknown section(s) ${unknown.join(', ')}; sections: ${Object.keys(SECTIONS).join(', ')}`);
  const results: SectionResult[] = [];
  const failed: string[] = [];
  const t0 = performance.now();
  for (const name of names) {
    const t = performance.now();
    process.stderr.write(`\n=== ${name}${o.quick ? ' (quick)' : ''} ===\n`);
    try {
      results.push(await (SECTIONS[name] as (o: BenchOptions) => Promise<SectionResult>)(o));
    } catch (e) {
      failed.push(name);
      shout(`section ${name} FAILED: ${(e as Error).stack ?? String(e)}`);
      results.push({
        section: name,
        file: '',
        extraFiles: [],
        headlines: [`FAILED: ${(e as Error).message.split('\n')[0]}`],
        warnings: [`${name} failed`],
      });
    }
    process.stderr.write(`=== ${name}: ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
  }
  const rel = (f: string): string => path.relative(o.outDir, f);
  const warnings = results.flatMap((r) => r.warnings.map((w) => `${r.section}: ${w}`));
  const text = [
    '# Benchmarks: headline numbers',
    '',
    ...provenance(o.quick, [
      `Suite time ${((performance.now() - t0) / 1000).toFixed(0)} s. Run with \`npm run bench${o.quick ? ' -- --quick' : ''}\`; each section also runs alone (\`node dist/benchmarks/<section>.js\`). How the numbers are made: benchmarks/README.md.`,
    ]),
    ...(warnings.length
      ? ['## ⚠️ Warnings', '', ...warnings.map((w) => `- **${w}**`), '']
      : ['No warnings: no budget violations, no missed speed target, every section ran.', '']),
    ...results.flatMap((r) => [
      `## ${r.section}${r.file ? ` ([${rel(r.file)}](${rel(r.file)}))` : ''}`,
      '',
      ...r.headlines.map((h) => `- ${h}`),
      ...r.extraFiles.map((f) => `- plot: [${rel(f)}](${rel(f)})`),
      '',
    ]),
  ].join('\n');
  const readme = writeOutput(o.outDir, 'README.md', text);
  process.stdout.write(`\nbenchmarks: results in ${o.outDir} (summary: ${readme})\n`);
  for (const r of results) if (r.file) process.stdout.write(`  ${r.section}: ${r.file}\n`);
  if (failed.length) process.exitCode = 1;
  return results;
}

runMain(module, runAll);

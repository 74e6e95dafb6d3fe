/** The speed report's tables: per network, every variant side by side (wall beside CPU), and the CPU's peak. */
import { markdownTable } from '../src/cli/report/tables';
import type { Peak } from './speed-peak';
import { VARIANT_LABELS, type BatchResult, type MixResult, type VariantResult } from './speed-paths';
import { type JudgedSubject, variantOf } from './speed-targets';
import { fixed, pct, si } from './support/format';

export interface SubjectSpeed extends JudgedSubject {
  fullMacs: number;
  note: string;
  /** How runBatch picked its path (the model's PathChoice, described). */
  pathNote: string;
}

const mixName = (label: string | undefined): string => (label === undefined ? '' : label === 'fixed' ? 'fixed mix' : `EERO ${label}`);

function variantRow(s: SubjectSpeed, b: BatchResult, v: VariantResult, mix: MixResult | undefined): Array<string | number> {
  const label = VARIANT_LABELS[v.kind] + (v.kind === 'engine' ? ` = ${b.batch >= s.graphFrom ? 'graph' : 'chain'}` : '');
  const cpuSpeedup = 1 / v.cpuRatio;
  return [
    b.batch,
    mixName(v.mix) || 'every row / plain',
    label,
    fixed(v.imagesPerSecond, 0),
    `${fixed(v.speedup, 2)}×`,
    `${fixed(cpuSpeedup, 2)}×`,
    fixed(v.cpuMsPerImage, 3),
    pct(v.macFraction, 1),
    mix ? `${pct(v.speedup / mix.timeIdeal, 0)}%` : '',
    mix ? `${pct(cpuSpeedup / mix.timeIdeal, 0)}%` : '',
    mix ? `${pct(v.speedup / mix.macIdeal, 0)}%` : '',
  ];
}

/** Every variant at every batch size: the plain graph and the every-row variants, then each mix's graph, chain and runBatch. */
export function subjectTable(s: SubjectSpeed): string {
  const rows: Array<Array<string | number>> = [];
  for (const b of s.batches) {
    for (const kind of ['full', 'graph-all', 'chain-all'] as const)
      rows.push(variantRow(s, b, variantOf(b, kind) as VariantResult, undefined));
    for (const mix of b.mixes) {
      for (const v of b.variants.filter((x) => x.mix === mix.label)) rows.push(variantRow(s, b, v, mix));
      rows.push([
        b.batch,
        mixName(mix.label),
        'ideal: time-based / MACs',
        '',
        `${fixed(mix.timeIdeal, 2)}× / ${fixed(mix.macIdeal, 2)}×`,
        '',
        '',
        '',
        '',
        '',
        '',
      ]);
    }
  }
  return markdownTable(
    [
      'batch',
      'routing',
      'variant',
      'images/s',
      'speed-up vs plain (wall)',
      'speed-up vs plain (CPU)',
      'CPU ms / image',
      'MACs %',
      'of time ideal (wall)',
      'of time ideal (CPU)',
      'of MAC ideal (wall)',
    ],
    rows,
  );
}

export function batchNotes(s: SubjectSpeed): string[] {
  return s.batches.map(
    (b) =>
      `- batch ${b.batch} (${b.images} images, ${b.reps} reps, load ${fixed(b.load[0], 2)} → ${fixed(b.load[1], 2)}): ` +
      b.mixes
        .map(
          (m) =>
            `${mixName(m.label)} exit shares ${m.shares.map((x) => fixed(100 * x, 0)).join('/')} %, rows routed to another exit than the chain: graph ${m.mismatches.graph}${s.untrained ? '' : `, runBatch ${m.mismatches.engine}`}`,
        )
        .join('; ') +
      `; every-row chain session ms per image by stage ${b.stageMs.map((x) => fixed(x, 3)).join(', ')}.`,
  );
}

export function peakLines(peak: Peak, subjects: SubjectSpeed[]): string[] {
  const achieved: Array<[string, number]> = subjects.flatMap((s) => {
    const b = s.batches[s.batches.length - 1];
    const full = b ? variantOf(b, 'full') : undefined;
    return b && full ? [[`${s.name} plain graph, batch ${b.batch}`, full.imagesPerSecond * s.fullMacs] as [string, number]] : [];
  });
  const above = achieved.filter(([, v]) => v > peak.measuredMacsPerSecond).map(([n]) => n);
  return [
    ...(above.length
      ? [
          `- **Note:** ${above.join(', ')} ran faster than the MatMul "peak": the single MatMul did not reach this CPU's peak in this run (other load, or MLAS's convolution kernels beat its GEMM); read the theoretical figure as the ceiling.`,
        ]
      : []),
    `- Measured peak: **${si(peak.measuredMacsPerSecond)}MAC/s** (${peak.matmul || 'n/a'}).`,
    `- Theoretical FMA peak: **${si(peak.theoreticalMacsPerSecond)}MAC/s** = ${peak.theory}.`,
    '',
    markdownTable(
      ['model', 'achieved MAC/s', '% of measured peak', '% of theoretical peak'],
      achieved.map(([name, v]) => [name, si(v), pct(v / peak.measuredMacsPerSecond, 1), pct(v / peak.theoreticalMacsPerSecond, 1)]),
    ),
  ];
}

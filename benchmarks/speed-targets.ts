/**
 * The speed targets the engine is held to (issue 19 and before), judged on every run of speed.ts with
 * their margins: by wall time, the figure the targets name, with the same share by CPU time beside it
 * (what a busy shared host moves least).
 */
import { markdownTable } from '../src/cli/report/tables';
import type { BatchResult, MixResult, VariantKind, VariantResult } from './speed-paths';
import { fixed, pct } from './support/format';

export const PRIMARY_BUDGET = 0.5;

export const TARGETS = {
  /** runBatch at budget 0.5: share of the time-based ideal, by batch size (bundles). */
  runBatchIdeal: { 64: 0.85, 16: 0.8, 1: 0.75 } as Record<number, number>,
  /** Every row through every exit, one graph, batch 64: time / the plain graph's time, at most. */
  everyRowAt64: 1.05,
  /** Budget 0.5, batch 64, one graph: speed-up over the plain graph, and share of the time-based ideal. */
  speedupAt64: 1.5,
  idealAt64: 0.9,
  /** The ImageNet-shaped ResNet-18 (untrained, fixed mix): its engine path at batch 1, share of the time-based ideal. */
  idealAt1R18: 0.95,
};

/** What speed.ts knows of a network to judge it. */
export interface JudgedSubject {
  name: string;
  untrained: boolean;
  /** Batches of at least this many rows take the one graph in runBatch (the model's path choice). */
  graphFrom: number;
  batches: BatchResult[];
}

export interface Check {
  subject: string;
  batch: number;
  what: string;
  measured: number;
  /** The same figure by CPU time, where it has one. */
  measuredCpu: number | undefined;
  target: number;
  /** 'min': measured must reach target; 'max': must not exceed it. */
  kind: 'min' | 'max';
  share: boolean;
  met: boolean;
}

export const variantOf = (b: BatchResult, kind: VariantKind, mix?: string): VariantResult | undefined =>
  b.variants.find((v) => v.kind === kind && (mix === undefined ? v.mix === undefined || v.mix === b.mixes[0]?.label : v.mix === mix));

export const mixOf = (b: BatchResult, label: string): MixResult | undefined => b.mixes.find((x) => x.label === label);

/** What the service runs at this batch size for a mix: runBatch when measured, else the variant runBatch would run. */
export function enginePath(s: JudgedSubject, b: BatchResult, mix?: string): VariantResult {
  return (variantOf(b, 'engine', mix) ?? variantOf(b, b.batch >= s.graphFrom ? 'graph' : 'chain', mix)) as VariantResult;
}

export function checksOf(s: JudgedSubject): Check[] {
  const out: Check[] = [];
  const check = (
    batch: number,
    what: string,
    measured: number,
    measuredCpu: number | undefined,
    target: number,
    kind: 'min' | 'max',
  ): void => {
    const share = what.includes('share');
    out.push({
      subject: s.name,
      batch,
      what,
      measured,
      measuredCpu,
      target,
      kind,
      share,
      met: kind === 'min' ? measured >= target : measured <= target,
    });
  };
  for (const b of s.batches) {
    const primary = b.mixes[0] as MixResult;
    if (!s.untrained) {
      const run = variantOf(b, 'engine');
      const target = TARGETS.runBatchIdeal[b.batch];
      if (run && target !== undefined) {
        const which = b.batch >= s.graphFrom ? 'graph' : 'chain';
        check(
          b.batch,
          `runBatch (${which}) at EERO ${PRIMARY_BUDGET}: share of the time-based ideal`,
          run.speedup / primary.timeIdeal,
          1 / run.cpuRatio / primary.timeIdeal,
          target,
          'min',
        );
      }
    }
    if (b.batch === 64) {
      const all = variantOf(b, 'graph-all') as VariantResult;
      check(64, 'one graph, every row through every exit: time / plain graph', 1 / all.speedup, all.cpuRatio, TARGETS.everyRowAt64, 'max');
      if (!s.untrained) {
        const graph = variantOf(b, 'graph') as VariantResult;
        check(
          64,
          `one graph at EERO ${PRIMARY_BUDGET}: speed-up over the plain graph`,
          graph.speedup,
          1 / graph.cpuRatio,
          TARGETS.speedupAt64,
          'min',
        );
        check(
          64,
          `one graph at EERO ${PRIMARY_BUDGET}: share of the time-based ideal`,
          graph.speedup / primary.timeIdeal,
          1 / graph.cpuRatio / primary.timeIdeal,
          TARGETS.idealAt64,
          'min',
        );
      }
    }
    if (b.batch === 1 && s.untrained) {
      const path = enginePath(s, b);
      check(
        1,
        `engine path (${path.kind === 'graph' ? 'the one graph' : 'the stage chain'}): share of the time-based ideal`,
        path.speedup / primary.timeIdeal,
        1 / path.cpuRatio / primary.timeIdeal,
        TARGETS.idealAt1R18,
        'min',
      );
    }
  }
  return out;
}

const figure = (c: Check, v: number): string => (c.share ? `${pct(v, 0)}%` : `${fixed(v, 2)}×`);

export function describeCheck(c: Check): string {
  return `${c.subject} batch ${c.batch}: ${c.what} ${figure(c, c.measured)} (CPU ${c.measuredCpu === undefined ? 'n/a' : figure(c, c.measuredCpu)}) ${c.met ? 'meets' : 'misses'} ${c.kind === 'min' ? '≥' : '≤'} ${figure(c, c.target)}`;
}

export function checkTable(checks: Check[]): string {
  return markdownTable(
    ['network', 'batch', 'target', 'measured (wall)', 'by CPU time', 'wanted', 'margin (wall)', 'verdict (wall)'],
    checks.map((c) => [
      c.subject,
      c.batch,
      c.what,
      figure(c, c.measured),
      c.measuredCpu === undefined ? '' : figure(c, c.measuredCpu),
      `${c.kind === 'min' ? '≥' : '≤'} ${figure(c, c.target)}`,
      c.share
        ? `${c.measured >= c.target ? '+' : ''}${fixed(100 * (c.measured - c.target), 0)} pts`
        : `${c.kind === 'max' ? (c.measured <= c.target ? '-' : '+') : c.measured >= c.target ? '+' : '-'}${fixed(100 * Math.abs(c.measured / c.target - 1), 0)}%`,
      c.met ? '✅ met' : '❌ missed',
    ]),
  );
}

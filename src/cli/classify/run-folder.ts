import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { EeroError, toEeroError } from '../../errors';
import { classifyPrepared, prepareBatch, type BudgetChoice, type ModelRuntime, type PreparedBatch } from '../../pipeline';
import type { ResultRow, ResultsFile } from './results-file';

export interface FolderRunOptions {
  /** The budget's policy and ledger, resolved once for the whole run. */
  choice: BudgetChoice;
  root: string;
  files: string[];
  batch: number;
  topk: number;
  limitInputPixels: number;
  /** Batches read and preprocessed ahead of the engine. */
  prefetch: number;
  shouldStop: () => boolean;
  onProgress: (done: number, errors: number) => void;
}

export interface FolderSummary {
  images: number;
  errors: number;
  seconds: number;
  exitCounts: number[];
  forced: number;
  macsSum: number;
  costFractionSum: number;
  /** Images whose folder names a class, and how many were right. */
  labelled: number;
  correct: number;
  stoppedEarly: boolean;
  phase: { read: number; preprocess: number; inference: number };
}

/** A class from the image's parent folder: its index ("3") or its label, compared loosely ("T-shirt_top"). */
export function labelFromFolder(file: string, labels: readonly string[]): number | undefined {
  const parent = path.basename(path.dirname(file));
  if (/^\d+$/.test(parent) && Number(parent) < labels.length) return Number(parent);
  const norm = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  const i = labels.findIndex((l) => norm(l) === norm(parent));
  return i >= 0 ? i : undefined;
}

async function readAll(root: string, files: string[]): Promise<{ bytes: Array<Uint8Array | EeroError>; seconds: number }> {
  const t0 = performance.now();
  const bytes = await Promise.all(
    files.map((f) =>
      fs.readFile(path.join(root, f)).then(
        (b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
        (e: unknown) => new EeroError('IO_ERROR', `cannot read ${f}: ${(e as Error).message}`, { cause: e }),
      ),
    ),
  );
  return { bytes, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Classify `files` in batches; reading and preprocessing run `prefetch`
 * batches ahead of the engine so the cores stay busy. Rows are written after
 * every batch, so a stop (Ctrl-C) loses nothing that was written.
 */
export async function runFolder(runtime: ModelRuntime, out: ResultsFile, opts: FolderRunOptions): Promise<FolderSummary> {
  const s: FolderSummary = {
    images: 0,
    errors: 0,
    seconds: 0,
    exitCounts: new Array<number>(runtime.costs.length).fill(0),
    forced: 0,
    macsSum: 0,
    costFractionSum: 0,
    labelled: 0,
    correct: 0,
    stoppedEarly: false,
    phase: { read: 0, preprocess: 0, inference: 0 },
  };
  const batches: string[][] = [];
  for (let i = 0; i < opts.files.length; i += opts.batch) batches.push(opts.files.slice(i, i + opts.batch));
  const prepare = async (files: string[]): Promise<PreparedBatch> => {
    const r = await readAll(opts.root, files);
    s.phase.read += r.seconds;
    return prepareBatch(runtime, r.bytes, { limitInputPixels: opts.limitInputPixels });
  };
  const t0 = performance.now();
  const ahead: Array<Promise<PreparedBatch>> = [];
  let next = 0;
  const fill = (): void => {
    while (ahead.length < Math.max(1, opts.prefetch) && next < batches.length) ahead.push(prepare(batches[next++] as string[]));
  };
  for (let b = 0; b < batches.length; b++) {
    if (opts.shouldStop()) {
      s.stoppedEarly = true;
      break;
    }
    fill();
    const prepared = await (ahead.shift() as Promise<PreparedBatch>);
    fill();
    const files = batches[b] as string[];
    s.phase.preprocess += prepared.preprocessSeconds;
    const report = await classifyPrepared(runtime, prepared, opts.choice, { topk: opts.topk, key: b * opts.batch });
    s.phase.inference += report.inferenceSeconds;
    const rows: ResultRow[] = report.outcomes.map((o, i) => {
      const file = files[i] as string;
      if (!o.ok) {
        s.errors++;
        return { file, errorCode: o.error.code, errorMessage: o.error.message };
      }
      const r = o.result;
      s.exitCounts[r.exit - 1] = (s.exitCounts[r.exit - 1] ?? 0) + 1;
      if (r.forced) s.forced++;
      s.macsSum += r.macs;
      s.costFractionSum += r.costFraction;
      const y = labelFromFolder(file, runtime.labels);
      if (y !== undefined) {
        s.labelled++;
        if (y === r.classIndex) s.correct++;
      }
      return {
        file,
        label: r.label,
        classIndex: r.classIndex,
        probability: r.probability,
        exit: r.exit,
        macs: r.macs,
        costFraction: r.costFraction,
        forced: r.forced,
        topk: r.topk,
      };
    });
    try {
      out.write(rows);
    } catch (e) {
      throw toEeroError(e, 'IO_ERROR');
    }
    s.images += rows.length;
    opts.onProgress(s.images, s.errors);
  }
  // Let prefetched work settle so no promise is left floating.
  await Promise.allSettled(ahead);
  s.seconds = (performance.now() - t0) / 1000;
  return s;
}

/**
 * Classify a folder's files in chunks through the one classify path; the
 * next chunks are read and decoded while the engine runs the current one,
 * and each chunk's rows are written as soon as it is done, so a stop
 * (Ctrl-C, a kill) loses nothing written.
 */
import { readFile as readFileCallback } from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { EeroError, toEeroError } from '../../errors';
import type { ClassifyAnswer, Classifier, RoutingRequest } from '../../pipeline';
import { nameText } from './file-names';
import type { ResultsFile } from './results-file';
import type { ResultRow } from './row-format';
import type { RunSettings } from './run-settings';
import type { WalkEntry } from './walk';

export interface FolderRunOptions {
  root: string;
  entries: WalkEntry[];
  routing: RoutingRequest;
  /** Images per chunk (the engine batch). */
  batch: number;
  topk: number;
  /** Chunks read and decoded ahead of the engine. */
  prefetch: number;
  /** Recorded in every row. */
  run: RunSettings;
  /** A hard stop: queued images are dropped. */
  signal: AbortSignal;
  /** A soft stop (first Ctrl-C): start no new chunk, finish and write the ones under way. */
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

/**
 * fs.readFile's callback form, promisified: for the small files a folder of images holds it costs about
 * half the CPU of fs.promises.readFile (which reads in chunks, one thread-pool round trip each).
 */
const readFile = promisify(readFileCallback);

async function readChunk(root: Buffer, entries: WalkEntry[]): Promise<Array<Uint8Array | EeroError>> {
  return Promise.all(
    entries.map(async (e) => {
      if (e.error) return e.error;
      try {
        const b = await readFile(Buffer.concat([root, Buffer.from(path.sep), e.rel]));
        return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      } catch (err) {
        return new EeroError('IO_ERROR', `cannot read the file: ${(err as Error).message}`, { cause: err });
      }
    }),
  );
}

function emptySummary(exits: number): FolderSummary {
  return {
    images: 0,
    errors: 0,
    seconds: 0,
    exitCounts: new Array<number>(exits).fill(0),
    forced: 0,
    macsSum: 0,
    costFractionSum: 0,
    labelled: 0,
    correct: 0,
    stoppedEarly: false,
    phase: { read: 0, preprocess: 0, inference: 0 },
  };
}

/** labelFromFolder, once per folder: a folder holds many images. */
function folderLabels(labels: readonly string[]): (file: string) => number | undefined {
  const byFolder = new Map<string, number | undefined>();
  return (file) => {
    const folder = path.dirname(file);
    if (!byFolder.has(folder)) byFolder.set(folder, labelFromFolder(file, labels));
    return byFolder.get(folder);
  };
}

function toRow(
  s: FolderSummary,
  labelOf: (file: string) => number | undefined,
  file: string,
  outcome: ClassifyAnswer['outcomes'][number],
  o: FolderRunOptions,
): ResultRow {
  if (!outcome.ok) {
    s.errors++;
    return { file, ...o.run, errorCode: outcome.error.code, errorMessage: outcome.error.message };
  }
  const r = outcome.result;
  s.exitCounts[r.exit - 1] = (s.exitCounts[r.exit - 1] ?? 0) + 1;
  if (r.forced) s.forced++;
  s.macsSum += r.macs;
  s.costFractionSum += r.costFraction;
  const y = labelOf(file);
  if (y !== undefined) {
    s.labelled++;
    if (y === r.classIndex) s.correct++;
  }
  return {
    file,
    ...o.run,
    label: r.label,
    classIndex: r.classIndex,
    probability: r.probability,
    exit: r.exit,
    macs: r.macs,
    costFraction: r.costFraction,
    forced: r.forced,
    stoppedBy: r.stoppedBy,
    topk: r.topk,
  };
}

export async function runFolder(classifier: Classifier, out: ResultsFile, o: FolderRunOptions): Promise<FolderSummary> {
  const labelOf = folderLabels(classifier.model.labels);
  const s = emptySummary(classifier.model.costs.costs.length);
  const root = Buffer.from(o.root);
  const chunks: WalkEntry[][] = [];
  for (let i = 0; i < o.entries.length; i += o.batch) chunks.push(o.entries.slice(i, i + o.batch));
  const t0 = performance.now();
  const start = async (c: number): Promise<ClassifyAnswer> => {
    const t = performance.now();
    const bytes = await readChunk(root, chunks[c] as WalkEntry[]);
    s.phase.read += (performance.now() - t) / 1000;
    return classifier.classify(bytes, { routing: o.routing, topk: o.topk, key: c * o.batch, signal: o.signal });
  };
  const ahead: Array<Promise<ClassifyAnswer>> = [];
  let next = 0;
  const fill = (): void => {
    while (ahead.length < Math.max(1, o.prefetch) && next < chunks.length && !o.signal.aborted && !o.shouldStop())
      ahead.push(start(next++));
  };
  try {
    for (let c = 0; c < chunks.length; c++) {
      fill();
      if (ahead.length === 0) {
        s.stoppedEarly = true;
        break;
      }
      const answer = await (ahead.shift() as Promise<ClassifyAnswer>);
      fill();
      // A chunk's images decode at once and run in one batch: its phase times are the longest decode and the batch's run.
      const timings = answer.outcomes.flatMap((o) => (o.ok ? [o.timings] : []));
      s.phase.preprocess += Math.max(0, ...timings.map((t) => t.preprocessMs)) / 1000;
      s.phase.inference += Math.max(0, ...timings.map((t) => t.inferenceMs)) / 1000;
      const rows = answer.outcomes.map((outcome, i) => {
        return toRow(s, labelOf, nameText((chunks[c] as WalkEntry[])[i]?.rel ?? Buffer.alloc(0)), outcome, o);
      });
      try {
        out.write(rows);
      } catch (e) {
        throw toEeroError(e, 'IO_ERROR');
      }
      s.images += rows.length;
      o.onProgress(s.images, s.errors);
    }
  } catch (e) {
    // A stop while chunks were in flight: what was written stays; the rest is for the resume.
    if (!(o.signal.aborted && e instanceof EeroError && e.code === 'ABORTED')) throw e;
    s.stoppedEarly = true;
  } finally {
    // Let prefetched work settle so no promise is left floating.
    await Promise.allSettled(ahead);
  }
  s.seconds = (performance.now() - t0) / 1000;
  return s;
}

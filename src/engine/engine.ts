/**
 * The early-exit engine: stage 1 on every row, then after each exit only the
 * surviving rows' features go on to the next stage.
 */
import { performance } from 'node:perf_hooks';
import type * as Ort from 'onnxruntime-node';
import type { Bundle, StageSpec } from '../config';
import { EeroError } from '../errors';
import type { Engine, EngineLogger, EngineOptions, EngineRunResult, OnExit, StageTiming } from './engine-types';
import { gatherRows, pickRows, splitRows } from './gather';
import { openExtraGraphs, runFullGraph } from './extra-graphs';
import { openSingleRowSessions, openStageSessions, type OrtModule } from './stage-sessions';

export interface EngineDeps {
  logger?: EngineLogger;
  /** The onnxruntime module; loaded on first use when not given (nothing happens at import). */
  ort?: OrtModule;
}

const stderrLogger: EngineLogger = { warn: (message) => process.stderr.write(`${message}\n`) };

export async function createEngine(bundle: Bundle, options: EngineOptions = {}, deps: EngineDeps = {}): Promise<Engine> {
  const ort = deps.ort ?? (await import('onnxruntime-node'));
  const { sessions, executionProvider } = await openStageSessions(ort, bundle, options, deps.logger ?? stderrLogger);
  let extra;
  let single: Ort.InferenceSession[] | undefined;
  try {
    single = await openSingleRowSessions(ort, bundle, options, executionProvider);
    extra = await openExtraGraphs(ort, bundle, options, executionProvider);
  } catch (e) {
    await Promise.all([...sessions, ...(single ?? [])].map((s) => s.release()));
    throw e;
  }
  const graphs = extra;
  const singleRow = single;
  const { manifest } = bundle;
  const { channels, height, width } = manifest.input;
  const inputShape = [channels, height, width] as const;
  const imageSize = channels * height * width;
  const classes = manifest.labels.length;
  let disposed = false;

  const run = async (input: Float32Array, batchSize: number, onExit: OnExit, signal?: AbortSignal): Promise<EngineRunResult> => {
    if (disposed) throw new EeroError('SHUTTING_DOWN', 'engine: already disposed');
    checkInput(input, batchSize, imageSize);
    const exits = new Int32Array(batchSize).fill(-1);
    const logitsOut = new Float32Array(batchSize * classes);
    const stages: StageTiming[] = manifest.stages.map((_, stage) => ({ stage, rows: 0, ms: 0, gatherMs: 0 }));
    let rows: Int32Array = Int32Array.from({ length: batchSize }, (_, i) => i);
    let x: Ort.Tensor | undefined = new ort.Tensor('float32', input, [batchSize, ...inputShape]);
    const ownsX = (): boolean => x !== undefined && x.data !== input;
    // One row runs on the single-thread sessions when there are some (EngineOptions.singleRowThreads).
    const chain = batchSize === 1 && singleRow ? singleRow : sessions;
    try {
      for (let l = 0; l < chain.length && x; l++) {
        if (signal?.aborted) throw new EeroError('ABORTED', 'engine: run aborted', { cause: signal.reason });
        const spec = manifest.stages[l] as StageSpec;
        const file = bundle.stagePaths[l] as string;
        const timing = stages[l] as StageTiming;
        const n = rows.length;
        const t0 = performance.now();
        const out = await runStage(chain[l] as Ort.InferenceSession, spec, file, x);
        timing.ms = performance.now() - t0;
        timing.rows = n;
        if (ownsX()) x.dispose();
        x = undefined;
        const logits = checkedData(out[spec.logits.name], [n, classes], file, spec.logits.name);
        const last = l === chain.length - 1;
        const answer = onExit(l, logits, rows);
        const { leave, keep } = last ? { leave: rows.map((_, i) => i), keep: [] } : splitRows(answer, n, l);
        for (const i of leave) {
          const row = rows[i] as number;
          exits[row] = l;
          logitsOut.set(logits.subarray(i * classes, (i + 1) * classes), row * classes);
        }
        out[spec.logits.name]?.dispose();
        const features = spec.features ? out[spec.features.name] : undefined;
        if (!features || !spec.features || keep.length === 0) {
          features?.dispose();
          continue;
        }
        const dims = [n, ...spec.features.shape.slice(1)];
        const data = checkedData(features, dims, file, spec.features.name);
        if (keep.length === n) {
          x = features; // nobody left: pass the tensor on, no copy
          continue;
        }
        const t1 = performance.now();
        const rowSize = data.length / n;
        x = new ort.Tensor('float32', gatherRows(data, rowSize, keep), [keep.length, ...dims.slice(1)]);
        rows = pickRows(rows, keep);
        features.dispose();
        timing.gatherMs = performance.now() - t1;
      }
    } finally {
      if (ownsX()) x?.dispose();
    }
    return { batchSize, classes, exits, logits: logitsOut, stages };
  };

  const m = sessions.length;
  const warmup = async (batchSizes: readonly number[] = [1]): Promise<void> => {
    for (const b of batchSizes) {
      const zeros = new Float32Array(b * imageSize);
      await run(zeros, b, (_l, _z, r) => new Uint8Array(r.length));
      // Every row through every exit: each block of the one graph is prepared too.
      await graphs.earlyExit?.run(zeros, b, new Float64Array(b * m).fill(Infinity), 1, new Float64Array(b * m * classes), 0, {
        detail: false,
      });
      if (graphs.full) await runFullGraph(ort, b === 1 && graphs.fullSingleRow ? graphs.fullSingleRow : graphs.full, bundle, zeros, b);
    }
  };

  const dispose = async (): Promise<void> => {
    if (disposed) return;
    disposed = true;
    await Promise.all([...sessions, ...(singleRow ?? [])].map((s) => s.release()).concat(graphs.release()));
  };

  return {
    bundle,
    manifest,
    executionProvider,
    stageCount: sessions.length,
    classes,
    inputShape,
    imageSize,
    run,
    earlyExit: graphs.earlyExit,
    runFull: graphs.full
      ? (input, batch) => {
          if (disposed) return Promise.reject(new EeroError('SHUTTING_DOWN', 'engine: already disposed'));
          checkInput(input, batch, imageSize);
          const session = batch === 1 && graphs.fullSingleRow ? graphs.fullSingleRow : (graphs.full as Ort.InferenceSession);
          return runFullGraph(ort, session, bundle, input, batch);
        }
      : undefined,
    warmup,
    dispose,
  };
}

function checkInput(input: Float32Array, batchSize: number, imageSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new EeroError('BAD_PARAMETER', `engine: batch size must be a positive integer, got ${batchSize}`);
  }
  if (!(input instanceof Float32Array)) throw new EeroError('BAD_PARAMETER', 'engine: input must be a Float32Array');
  if (input.length !== batchSize * imageSize) {
    throw new EeroError(
      'BAD_PARAMETER',
      `engine: input has ${input.length} floats, expected ${batchSize} x ${imageSize} = ${batchSize * imageSize}`,
    );
  }
}

async function runStage(
  session: Ort.InferenceSession,
  spec: StageSpec,
  file: string,
  x: Ort.Tensor,
): Promise<Ort.InferenceSession.ReturnType> {
  try {
    return await session.run({ [spec.input.name]: x });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new EeroError('INTERNAL', `${file}: stage run failed: ${why}`, { cause: e, details: { file } });
  }
}

function checkedData(value: Ort.OnnxValue | undefined, dims: number[], file: string, name: string): Float32Array {
  const ok =
    value !== undefined && value.type === 'float32' && value.dims.length === dims.length && value.dims.every((d, i) => d === dims[i]);
  if (!ok || !(value.data instanceof Float32Array)) {
    const got = value ? `${value.type} [${value.dims.join(', ')}]` : 'nothing';
    throw new EeroError('MODEL_INVALID', `${file}: output "${name}" is ${got}, expected float32 [${dims.join(', ')}]`, {
      details: { file },
    });
  }
  return value.data;
}

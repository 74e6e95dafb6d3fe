/** Opening one ONNX Runtime session per stage, in parallel, checked against the manifest. */
import type * as Ort from 'onnxruntime-node';
import { usableCores, type Bundle, type ExecutionProviderName, type StageSpec } from '../config';
import { EeroError } from '../errors';
import type { EngineLogger, EngineOptions } from './engine-types';

export type OrtModule = typeof Ort;

export interface OpenedStages {
  sessions: Ort.InferenceSession[];
  executionProvider: ExecutionProviderName;
}

export function sessionOptions(options: EngineOptions, provider: ExecutionProviderName): Ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    graphOptimizationLevel: options.graphOptimization ?? 'all',
    executionMode: 'sequential',
    intraOpNumThreads: options.intraOpThreads ?? usableCores(),
    interOpNumThreads: options.interOpThreads ?? 1,
    // Spinning threads burn the cores between the short runs of chained
    // stages (measured: up to 5x slower than one graph on 2 cores). The Node
    // binding flattens `extra` into config keys: session.intra_op.allow_spinning.
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

/** Whether the installed runtime lists the CUDA execution provider. */
export function runtimeHasCuda(ort: OrtModule): boolean {
  try {
    return ort.listSupportedBackends().some((b) => b.name === 'cuda');
  } catch {
    return false;
  }
}

export async function openStageSessions(
  ort: OrtModule,
  bundle: Bundle,
  options: EngineOptions,
  logger: EngineLogger,
): Promise<OpenedStages> {
  const requested = options.executionProvider ?? 'cpu';
  if (requested === 'cuda') {
    if (!runtimeHasCuda(ort)) {
      logger.warn('engine: executionProvider cuda requested but this onnxruntime has no CUDA provider; using cpu');
    } else {
      const failure = await probeCuda(ort, bundle, options);
      if (failure === undefined) {
        return { sessions: await openAll(ort, bundle, sessionOptions(options, 'cuda')), executionProvider: 'cuda' };
      }
      logger.warn(`engine: CUDA execution provider failed to start (${failure}); using cpu`);
    }
  }
  return { sessions: await openAll(ort, bundle, sessionOptions(options, 'cpu')), executionProvider: 'cpu' };
}

/**
 * Open stage 1 on CUDA with onnxruntime's own logging quiet; the reason it
 * fails, or undefined when it works. A graph that fails on cpu too is then
 * reported by the cpu attempt.
 */
async function probeCuda(ort: OrtModule, bundle: Bundle, options: EngineOptions): Promise<string | undefined> {
  try {
    const quiet = { ...sessionOptions(options, 'cuda'), logSeverityLevel: 4 as const };
    const session = await ort.InferenceSession.create(bundle.stagePaths[0] as string, quiet);
    await session.release();
    return undefined;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return why.split('\n')[0]?.slice(0, 300);
  }
}

/**
 * The CPU sessions for single-row batches (EngineOptions.singleRowThreads), or undefined when the
 * batch sessions serve them: not on CUDA, not for a large network, and not when they would have as
 * many threads.
 */
export async function openSingleRowSessions(
  ort: OrtModule,
  bundle: Bundle,
  options: EngineOptions,
  provider: ExecutionProviderName,
): Promise<Ort.InferenceSession[] | undefined> {
  const threads = singleRowThreads(options, provider, bundle);
  return threads === undefined ? undefined : openAll(ort, bundle, sessionOptions({ ...options, intraOpThreads: threads }, 'cpu'));
}

/**
 * Networks up to this many multiply-adds per image are "small": one row's kernels are too short to
 * gain from a second thread or from one onnxruntime call (measured on 2 cores at batch 1: the 35M
 * and 17M MAC Fashion-MNIST models run 15-25% faster on one thread and on the stage chain; the 1.8G
 * MAC ImageNet-shaped ResNet-18 runs 2.4x faster on two threads, in the one graph).
 */
export const SMALL_NETWORK_MACS = 2e8;

export function isSmallNetwork(bundle: Bundle): boolean {
  const exits = bundle.manifest.exits;
  return (exits[exits.length - 1]?.macs ?? Infinity) <= SMALL_NETWORK_MACS;
}

/** The intra-op threads of the single-row sessions, or undefined when there are none (not on CUDA, not for a large network). */
export function singleRowThreads(options: EngineOptions, provider: ExecutionProviderName, bundle: Bundle): number | undefined {
  const threads = options.singleRowThreads ?? 1;
  const batchThreads = options.intraOpThreads ?? usableCores();
  return provider === 'cpu' && isSmallNetwork(bundle) && threads >= 1 && threads < batchThreads ? threads : undefined;
}

async function openAll(ort: OrtModule, bundle: Bundle, options: Ort.InferenceSession.SessionOptions): Promise<Ort.InferenceSession[]> {
  const opened = await Promise.allSettled(
    bundle.manifest.stages.map((stage, l) => openStage(ort, bundle.stagePaths[l] as string, stage, options)),
  );
  const failure = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    await Promise.all(opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value.release().catch(() => undefined)] : [])));
    throw failure.reason;
  }
  return opened.map((r) => (r as PromiseFulfilledResult<Ort.InferenceSession>).value);
}

async function openStage(
  ort: OrtModule,
  file: string,
  stage: StageSpec,
  options: Ort.InferenceSession.SessionOptions,
): Promise<Ort.InferenceSession> {
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(file, options);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new EeroError('MODEL_INVALID', `${file}: onnxruntime cannot load this stage graph: ${why}`, {
      cause: e,
      details: { file },
    });
  }
  try {
    checkNames(file, 'input', [stage.input.name], session.inputNames);
    checkNames(file, 'output', [stage.logits.name, ...(stage.features ? [stage.features.name] : [])], session.outputNames);
  } catch (e) {
    await session.release().catch(() => undefined);
    throw e;
  }
  return session;
}

function checkNames(file: string, kind: string, wanted: string[], present: readonly string[]): void {
  const missing = wanted.find((name) => !present.includes(name));
  if (missing !== undefined) {
    throw new EeroError(
      'MODEL_INVALID',
      `${file}: the manifest's ${kind} "${missing}" is not in the graph (graph ${kind}s: ${present.join(', ') || 'none'})`,
      { details: { file, missing } },
    );
  }
}

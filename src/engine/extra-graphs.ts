/** The one-graph networks beside the stage chain: the early-exit graph (routes rows itself) and the full model without exits. */
import type * as Ort from 'onnxruntime-node';
import type { Bundle, ExecutionProviderName } from '../config';
import { EeroError } from '../errors';
import { earlyExitGraphSpec, openEarlyExitGraph, type EarlyExitGraph } from './early-exit-graph';
import type { EngineOptions } from './engine-types';
import { sessionOptions, singleRowThreads, type OrtModule } from './stage-sessions';

export interface ExtraGraphs {
  earlyExit: EarlyExitGraph | undefined;
  full: Ort.InferenceSession | undefined;
  /** The full graph for single-row batches (EngineOptions.singleRowThreads), when opened. */
  fullSingleRow: Ort.InferenceSession | undefined;
  release(): Promise<void>;
}

export async function openExtraGraphs(
  ort: OrtModule,
  bundle: Bundle,
  options: EngineOptions,
  provider: ExecutionProviderName,
): Promise<ExtraGraphs> {
  const mode = options.graph ?? 'auto';
  const opts = sessionOptions(options, provider);
  const earlyExit =
    mode === 'auto' && bundle.earlyExitPath !== undefined
      ? await openEarlyExitGraph(ort, bundle.earlyExitPath, earlyExitGraphSpec(bundle.manifest), opts)
      : undefined;
  let full: Ort.InferenceSession | undefined;
  let fullSingleRow: Ort.InferenceSession | undefined;
  if (mode === 'full') {
    const ref = bundle.manifest.reference;
    if (!ref || bundle.referencePath === undefined) {
      await earlyExit?.release();
      throw new EeroError(
        'MODEL_INVALID',
        `${bundle.dir}: engine graph "full" needs the bundle's reference graph (manifest \`reference\`)`,
      );
    }
    const path = bundle.referencePath;
    const threads = singleRowThreads(options, provider, bundle);
    try {
      full = await ort.InferenceSession.create(path, opts);
      if (threads !== undefined)
        fullSingleRow = await ort.InferenceSession.create(path, sessionOptions({ ...options, intraOpThreads: threads }, provider));
    } catch (e) {
      await Promise.all([earlyExit?.release(), full?.release()]);
      throw new EeroError('MODEL_INVALID', `${path}: onnxruntime cannot load the full graph: ${(e as Error).message}`, { cause: e });
    }
  }
  return {
    earlyExit,
    full,
    fullSingleRow,
    async release() {
      await Promise.all([earlyExit?.release(), full?.release(), fullSingleRow?.release()]);
    },
  };
}

/** batch x K logits of the network without exits. */
export async function runFullGraph(
  ort: OrtModule,
  session: Ort.InferenceSession,
  bundle: Bundle,
  input: Float32Array,
  batch: number,
): Promise<Float32Array> {
  const ref = bundle.manifest.reference;
  if (!ref) throw new EeroError('INTERNAL', 'no reference graph');
  const { channels, height, width } = bundle.manifest.input;
  const out = await session.run({ [ref.input.name]: new ort.Tensor('float32', input, [batch, channels, height, width]) });
  const logits = out[ref.logits.name];
  if (!logits || logits.type !== 'float32' || !(logits.data instanceof Float32Array)) {
    throw new EeroError('MODEL_INVALID', `${bundle.referencePath ?? 'full graph'}: output "${ref.logits.name}" is not float32`);
  }
  return logits.data;
}

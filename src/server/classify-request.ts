/** The shared middle of POST /v1/classify and POST /v2/models/{name}/infer: bytes -> preprocess -> batcher -> results. */
import { EeroError, toEeroError } from '../errors';
import type { BatchedResult } from '../batching';
import type { BudgetChoice } from '../pipeline';
import type { ClassifyParams } from './params';
import { screenImage } from './screen-image';
import type { AppDeps, ServedModelEntry } from './server-types';

export interface ImageInput {
  bytes: Uint8Array | EeroError;
  mimeType?: string;
}

export type ImageAnswer = { ok: true; result: BatchedResult; preprocessMs: number } | { ok: false; error: EeroError };

export interface ClassifyRun {
  entry: ServedModelEntry;
  choice: BudgetChoice;
  answers: ImageAnswer[];
}

export interface ClassifyContext {
  deps: AppDeps;
  /** Tie-breaking key of the next image (EERO.md: seeded noise). */
  nextKey(): number;
}

export function resolveModel(deps: AppDeps, name: string | undefined): ServedModelEntry {
  const entry = deps.models.get(name ?? deps.defaultModel);
  if (!entry) {
    throw new EeroError('UNKNOWN_MODEL', `unknown model ${JSON.stringify(name)}; served: ${[...deps.models.keys()].join(', ')}`, {
      details: { model: name, models: [...deps.models.keys()] },
    });
  }
  return entry;
}

/** The model's default routing, or the request's budget/score over it (pinned thresholds only hold for the default budget). */
export function chooseBudget(entry: ServedModelEntry, params: Pick<ClassifyParams, 'budget' | 'score'>): BudgetChoice {
  if (params.budget === undefined && params.score === undefined) return entry.runtime.budgets.choose(entry.defaults);
  const { thresholds: _pinned, name: _name, ...rest } = entry.defaults;
  return entry.runtime.budgets.choose({
    ...rest,
    ...(params.budget === undefined ? {} : { budget: params.budget }),
    ...(params.score ? { score: params.score } : {}),
  });
}

/**
 * Bad images come back as error answers; request-wide failures (bad budget,
 * overload, timeout, shutdown) are thrown.
 */
export async function classifyInputs(
  ctx: ClassifyContext,
  entry: ServedModelEntry,
  images: ImageInput[],
  params: ClassifyParams,
  signal: AbortSignal,
  topk = params.topk,
): Promise<ClassifyRun> {
  const { deps } = ctx;
  const { runtime, batcher } = entry;
  const choice = chooseBudget(entry, params);
  deps.metrics.setBudget(entry.name, choice.name, choice.fraction, runtime.macs[runtime.macs.length - 1] as number);
  const screened = images.map((img) => (img.bytes instanceof EeroError ? img.bytes : screenImage(img.bytes, img.mimeType)));
  batcher.checkCapacity(screened.filter((e) => e === undefined).length);
  const rowTopk = Math.min(topk ?? 5, runtime.labels.length);

  const one = async (img: ImageInput, refused: EeroError | undefined): Promise<ImageAnswer> => {
    if (refused) return { ok: false, error: refused };
    const start = deps.clock();
    let data: Float32Array;
    try {
      data = (await runtime.preprocessor.preprocess(img.bytes as Uint8Array, { limitInputPixels: deps.limits.inputPixels, signal })).data;
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      return { ok: false, error: toEeroError(e, 'CORRUPT_IMAGE') };
    }
    const preprocessMs = deps.clock() - start;
    deps.metrics.observePhase(entry.name, 'preprocess', preprocessMs / 1000);
    const result = await batcher.submit(
      { input: data, request: { choice, topk: rowTopk, trace: params.trace, key: ctx.nextKey() } },
      signal,
    );
    deps.metrics.recordImage({ model: entry.name, policy: choice.name, exit: result.exit, macs: result.macs, forced: result.forced });
    return { ok: true, result, preprocessMs };
  };
  const answers = await Promise.all(images.map((img, i) => one(img, screened[i])));
  return { entry, choice, answers };
}

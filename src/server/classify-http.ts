/** The HTTP side of classifying: pick the model, screen the bytes, hand them to the model's one classify path. */
import { EeroError } from '../errors';
import type { ClassifyAnswer } from '../pipeline';
import type { Asker } from './client-key';
import type { ClassifyParams } from './params';
import { screenImage } from './screen-image';
import type { AppDeps, ServedModel } from './server-types';

export interface ImageInput {
  bytes: Uint8Array | EeroError;
  mimeType?: string;
}

export function resolveModel(deps: AppDeps, name: string | undefined): ServedModel {
  const entry = deps.models.get(name ?? deps.defaultModel);
  if (!entry) {
    throw new EeroError('UNKNOWN_MODEL', `unknown model ${JSON.stringify(name)}; served: ${[...deps.models.keys()].join(', ')}`, {
      details: { model: name, models: [...deps.models.keys()] },
    });
  }
  return entry;
}

/** Bad images come back as error outcomes; failures of the whole request (budget, overload, timeout, shutdown) throw. */
export function classifyHttp(
  model: ServedModel,
  images: ImageInput[],
  params: ClassifyParams,
  signal: AbortSignal,
  asker: Asker,
): Promise<ClassifyAnswer> {
  const screened = images.map((img) => (img.bytes instanceof EeroError ? img.bytes : (screenImage(img.bytes, img.mimeType) ?? img.bytes)));
  return model.classify(screened, { routing: params.routing, topk: params.topk, trace: params.trace, signal, ...asker });
}

/** Server and model metadata of the Open Inference Protocol, shared by REST and gRPC. */
import { EeroError } from '../../errors';
import type { AppDeps, ServedModel } from '../server-types';
import { inputMetadata } from './model-inputs';
import { outputMetadata } from './outputs';
import { packageRoot } from './package-root';

/** Models are not versioned: each has the one version "1". */
export const MODEL_VERSION = '1';

/** Triton's extensions this server implements (the server metadata lists them). */
export const EXTENSIONS = ['binary_tensor_data', 'classification'] as const;

export interface ServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}

export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  parameters: Record<string, string | number>;
}

export function serverMetadata(): ServerMetadata {
  return { name: 'eero-serve', version: packageRoot().version, extensions: [...EXTENSIONS] };
}

/** "" and undefined mean the server's choice, the one version; any other than "1" is NOT_FOUND. */
export function checkVersion(model: ServedModel, version: string | undefined): void {
  if (version === undefined || version === '' || version === MODEL_VERSION) return;
  throw new EeroError('NOT_FOUND', `model ${model.name} has no version ${JSON.stringify(version)}; its versions: ${MODEL_VERSION}`, {
    details: { model: model.name, version, versions: [MODEL_VERSION] },
  });
}

export function modelMetadata(model: ServedModel): ModelMetadata {
  const d = model.describe();
  const norm = model.normalisation;
  return {
    name: model.name,
    versions: [MODEL_VERSION],
    platform: 'eero',
    inputs: inputMetadata(d),
    outputs: outputMetadata(d.labels.length),
    parameters: {
      labels: d.labels.join(','),
      exits: d.exits.length,
      budget_limit: d.budget.limit,
      input_color_space: d.input.colorSpace,
      // What a client needs to send `input` (FP32): (pixel / scale - mean) / std, per channel.
      ...(norm ? { input_scale: norm.scale, input_mean: norm.mean.join(','), input_std: norm.std.join(',') } : {}),
    },
  };
}

/** Ready for inference: the model warmed and the service serving (not draining or closing). */
export function modelReady(deps: AppDeps, model: ServedModel): boolean {
  return model.ready && deps.phase() === 'serving';
}

/**
 * The services, loaded from the published .proto files in proto/ (kept as
 * they are): Triton's inference.GRPCInferenceService, a superset of the
 * Open Inference Protocol's with the same messages and field numbers (so
 * clients built from KServe's grpc_predict_v2.proto work too), and
 * grpc.health.v1.Health.
 */
import { join } from 'node:path';
import { loadPackageDefinition, type GrpcObject, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import { packageRoot } from '../v2';

/** How messages reach the handlers (messages.ts describes the result). */
export const LOADER_OPTIONS: Options = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };

export interface Services {
  inference: ServiceDefinition;
  health: ServiceDefinition;
}

export function protoDir(): string {
  return join(packageRoot().dir, 'proto');
}

function service(root: GrpcObject, path: string): ServiceDefinition {
  let node: unknown = root;
  for (const part of path.split('.')) node = (node as Record<string, unknown>)[part];
  const definition = (node as { service?: ServiceDefinition } | undefined)?.service;
  if (!definition) throw new Error(`${path} is not in the loaded .proto files`);
  return definition;
}

let loaded: Services | undefined;

/** Loaded once per process (parsing the two files takes a few hundred milliseconds). */
export function loadServices(): Services {
  if (loaded) return loaded;
  const dir = protoDir();
  const inference = loadPackageDefinition(loadSync('grpc_service.proto', { ...LOADER_OPTIONS, includeDirs: [join(dir, 'triton')] }));
  const health = loadPackageDefinition(loadSync('health/v1/health.proto', { ...LOADER_OPTIONS, includeDirs: [join(dir, 'grpc')] }));
  loaded = { inference: service(inference, 'inference.GRPCInferenceService'), health: service(health, 'grpc.health.v1.Health') };
  return loaded;
}

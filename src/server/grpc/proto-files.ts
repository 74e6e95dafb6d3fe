/**
 * The services, loaded from our own .proto files in proto/: inference.proto
 * (inference.GRPCInferenceService, the Open Inference Protocol with the
 * names and field numbers of KServe's and Triton's definitions, so clients
 * built from either work) and health.proto (grpc.health.v1.Health).
 */
import { join } from 'node:path';
import { loadPackageDefinition, type GrpcObject, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';
import { packageRoot } from '../v2';

/** How messages reach the handlers (messages.ts describes the result). */
export const LOADER_OPTIONS: Options = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };

export interface Services {
  inference: ServiceDefinition;
  health: ServiceDefinition;
}

/** A file of proto/, loaded as the server loads it. */
export function loadProto(file: 'inference.proto' | 'health.proto'): PackageDefinition {
  return loadSync(join(packageRoot().dir, 'proto', file), LOADER_OPTIONS);
}

function service(root: GrpcObject, path: string): ServiceDefinition {
  let node: unknown = root;
  for (const part of path.split('.')) node = (node as Record<string, unknown>)[part];
  const definition = (node as { service?: ServiceDefinition } | undefined)?.service;
  if (!definition) throw new Error(`${path} is not in the loaded .proto files`);
  return definition;
}

let loaded: Services | undefined;

/** Loaded once per process. */
export function loadServices(): Services {
  loaded ??= {
    inference: service(loadPackageDefinition(loadProto('inference.proto')), 'inference.GRPCInferenceService'),
    health: service(loadPackageDefinition(loadProto('health.proto')), 'grpc.health.v1.Health'),
  };
  return loaded;
}

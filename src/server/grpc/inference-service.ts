/**
 * inference.GRPCInferenceService: server live/ready/metadata, model
 * ready/metadata/infer, and ModelStreamInfer (each streamed request answered
 * as ModelInfer would be, in completion order, errors as error_message). The
 * other methods of Triton's service answer UNIMPLEMENTED (grpc-js's default).
 */
import type { ServerDuplexStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { untilAborted } from '../deadline';
import { resolveModel } from '../classify-http';
import { asEeroError } from '../error-response';
import type { AppDeps, ServedModel } from '../server-types';
import { isReady } from '../v1-routes';
import { checkVersion, modelMetadata, modelReady, runInfer, serverMetadata } from '../v2';
import type { Asker } from '../client-key';
import { cancelled, grpcAsker, observe, requestTimer, shuttingDown, unary } from './call-guard';
import { decodeInferRequest, encodeInferResponse, rawParameters } from './codec';
import { RefusedMessage } from './message-bound';
import type { ModelInferRequest, ModelInferResponse, ModelStreamInferResponse, NameVersion } from './messages';

const SERVICE = '/inference.GRPCInferenceService';

function versioned(deps: AppDeps, name: string, version: string): ServedModel {
  const model = resolveModel(deps, name);
  checkVersion(model, version);
  return model;
}

async function infer(
  deps: AppDeps,
  req: ModelInferRequest | RefusedMessage,
  signal: AbortSignal,
  asker: Asker,
): Promise<ModelInferResponse> {
  if (req instanceof RefusedMessage) throw req.error;
  const model = versioned(deps, req.model_name, req.model_version);
  const call = decodeInferRequest(req, model.describe(), deps.limits.filesPerRequest);
  const answer = await untilAborted(runInfer(deps, model, call, signal, asker), signal);
  return encodeInferResponse(answer, rawParameters(req.parameters));
}

/** Open streams, ended (once their requests in flight are answered) when the server closes. */
export type Closers = Set<() => void>;

function streamInfer(deps: AppDeps, closers: Closers) {
  const method = `${SERVICE}/ModelStreamInfer`;
  return (call: ServerDuplexStream<ModelInferRequest, ModelStreamInferResponse>): void => {
    // One controller per request in flight, all aborted when the stream is cancelled (one listener, however many requests).
    const inFlight = new Set<AbortController>();
    let ending = false;
    const finish = (): void => {
      if (!ending || inFlight.size > 0) return;
      closers.delete(close);
      if (!call.cancelled) call.end();
    };
    const close = (): void => {
      ending = true;
      finish();
    };
    closers.add(close);
    call.on('data', (req: ModelInferRequest | RefusedMessage) => {
      const started = deps.clock();
      const timer = requestTimer(deps.limits.requestTimeoutMs);
      inFlight.add(timer.controller);
      const work =
        ending || deps.phase() === 'closing' ? Promise.reject(shuttingDown()) : infer(deps, req, timer.controller.signal, grpcAsker(call));
      work
        .then(
          (response) => {
            observe(deps, method, started, undefined, call.cancelled);
            if (!call.cancelled) call.write({ error_message: '', infer_response: response });
          },
          (e: unknown) => {
            const error = asEeroError(e);
            observe(deps, method, started, error, call.cancelled);
            if (!call.cancelled) call.write({ error_message: `${error.code}: ${error.message}`, infer_response: null });
          },
        )
        .finally(() => {
          timer.done();
          inFlight.delete(timer.controller);
          finish();
        });
    });
    call.on('end', close);
    call.on('error', close);
    call.on('cancelled', () => {
      for (const c of inFlight) c.abort(cancelled());
      close();
    });
  };
}

export function inferenceService(deps: AppDeps, closers: Closers): UntypedServiceImplementation {
  const m = (name: string): string => `${SERVICE}/${name}`;
  return {
    ServerLive: unary(deps, m('ServerLive'), 'always', () => ({ live: true })),
    ServerReady: unary(deps, m('ServerReady'), 'always', () => ({ ready: isReady(deps) })),
    ServerMetadata: unary(deps, m('ServerMetadata'), 'serving', () => serverMetadata()),
    ModelReady: unary(deps, m('ModelReady'), 'always', (req: NameVersion) => ({
      ready: modelReady(deps, versioned(deps, req.name, req.version)),
    })),
    ModelMetadata: unary(deps, m('ModelMetadata'), 'serving', (req: NameVersion) => {
      const { name, versions, platform, inputs, outputs } = modelMetadata(versioned(deps, req.name, req.version));
      return { name, versions, platform, inputs, outputs };
    }),
    ModelInfer: unary(deps, m('ModelInfer'), 'serving', (req: ModelInferRequest | RefusedMessage, signal, call) =>
      infer(deps, req, signal, grpcAsker(call)),
    ),
    ModelStreamInfer: streamInfer(deps, closers),
  };
}

/**
 * grpc.health.v1.Health, what load balancers and Kubernetes' grpc probes ask:
 * SERVING while the service serves and every model is ready, NOT_SERVING from
 * the first moment of shutdown (as /readyz). Services known: "" (the server)
 * and inference.GRPCInferenceService; others are NOT_FOUND (Check) or
 * SERVICE_UNKNOWN (Watch). Watch streams the status: at once, then on each
 * change (checked every `pollMs`), and ends when the server closes.
 */
import type { ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { EeroError } from '../../errors';
import type { AppDeps } from '../server-types';
import { isReady } from '../v1-routes';
import { unary } from './call-guard';
import type { Closers } from './inference-service';
import type { ServingStatus } from './messages';

const KNOWN = new Set(['', 'inference.GRPCInferenceService']);

interface HealthCheckRequest {
  service: string;
}

function statusOf(deps: AppDeps, service: string): ServingStatus | undefined {
  if (!KNOWN.has(service)) return undefined;
  return isReady(deps) ? 'SERVING' : 'NOT_SERVING';
}

function watch(deps: AppDeps, closers: Closers, pollMs: number) {
  return (call: ServerWritableStream<HealthCheckRequest, { status: ServingStatus }>): void => {
    let last: ServingStatus | undefined;
    const send = (): void => {
      const now = statusOf(deps, call.request.service) ?? 'SERVICE_UNKNOWN';
      if (now !== last && !call.cancelled) call.write({ status: now });
      last = now;
    };
    const timer = setInterval(send, pollMs);
    timer.unref();
    const stop = (): void => {
      clearInterval(timer);
      closers.delete(close);
    };
    const close = (): void => {
      send();
      stop();
      if (!call.cancelled) call.end();
    };
    closers.add(close);
    call.on('cancelled', stop);
    send();
  };
}

export function healthService(deps: AppDeps, closers: Closers, pollMs = 250): UntypedServiceImplementation {
  return {
    Check: unary(deps, '/grpc.health.v1.Health/Check', 'always', (req: HealthCheckRequest) => {
      const status = statusOf(deps, req.service);
      if (status === undefined)
        throw new EeroError('NOT_FOUND', `unknown service ${JSON.stringify(req.service)}; known: "", inference.GRPCInferenceService`);
      return { status };
    }),
    Watch: watch(deps, closers, pollMs),
  };
}

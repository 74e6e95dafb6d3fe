/**
 * What every gRPC call shares with REST: the request deadline
 * (limits.requestTimeoutMs, or the client's own deadline, whichever comes
 * first: grpc-js cancels the call then), the client-gone signal, the
 * shutdown manners, the error mapping and the request metrics.
 */
import type { Metadata, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { EeroError } from '../../errors';
import { clientKeyOf, type Asker } from '../client-key';
import { CLIENT_CLOSED_STATUS } from '../request-metrics';
import { asEeroError } from '../error-response';
import type { AppDeps } from '../server-types';
import { grpcError } from './status';

/** What every server call is (grpc-js does not export its name): an emitter of 'cancelled'. */
interface ServerSurfaceCall {
  readonly cancelled: boolean;
  once(event: 'cancelled', listener: () => void): unknown;
  off(event: 'cancelled', listener: () => void): unknown;
}

export interface CallSignal {
  signal: AbortSignal;
  done(): void;
}

/** A controller aborted with TIMEOUT after `timeoutMs` (limits.requestTimeoutMs), unless done first. */
export function requestTimer(timeoutMs: number): { controller: AbortController; done(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(
      new EeroError('TIMEOUT', `the request took longer than ${timeoutMs} ms`, { details: { timeoutMs, retryAfterSeconds: 1 } }),
    );
  }, timeoutMs);
  return { controller, done: () => clearTimeout(timer) };
}

export function cancelled(): EeroError {
  return new EeroError('ABORTED', 'the client cancelled the call (or its deadline passed)');
}

/** Aborted with TIMEOUT after the limit, or ABORTED when the client cancels (or its deadline passes). */
export function callSignal(call: ServerSurfaceCall, timeoutMs: number): CallSignal {
  const timer = requestTimer(timeoutMs);
  const onCancel = (): void => timer.controller.abort(cancelled());
  call.once('cancelled', onCancel);
  return {
    signal: timer.controller.signal,
    done() {
      timer.done();
      call.off('cancelled', onCancel);
    },
  };
}

/** Who calls, as REST's askerOf says it: the hashed `authorization` or `x-api-key` metadata, else the peer's address (no port); the address; and the connection. */
export function grpcAsker(call: { readonly metadata: Metadata; getPeer(): string }): Asker {
  const credential = call.metadata.get('authorization')[0] ?? call.metadata.get('x-api-key')[0];
  const peer = call.getPeer();
  const address = /^\[(.*)\]:\d+$/.exec(peer)?.[1] ?? /^([^:]*):\d+$/.exec(peer)?.[1] ?? peer;
  // The peer (address and port) is the HTTP/2 connection.
  return { client: clientKeyOf(typeof credential === 'string' ? credential : undefined, address), address, connection: peer };
}

/** Methods answered while the service closes (the probes'); every other one is UNAVAILABLE then. */
export type Manners = 'always' | 'serving';

/** Records the call and turns what it throws into the gRPC status of the same error. */
export function observe(deps: AppDeps, method: string, started: number, error: EeroError | undefined, cancelled: boolean): void {
  const status = cancelled ? CLIENT_CLOSED_STATUS : error ? error.httpStatus : 200;
  deps.metrics.recordRequest(method, status, Math.max(0, deps.clock() - started) / 1000, 'grpc');
  if (!error) return;
  deps.metrics.recordError(error.code);
  if (error.code === 'INTERNAL')
    deps.logger.error(
      `gRPC ${method}: ${error.cause instanceof Error ? (error.cause.stack ?? error.message) : (error.stack ?? error.message)}`,
    );
}

export function shuttingDown(): EeroError {
  return new EeroError('SHUTTING_DOWN', 'the service is shutting down; retry on another replica', { details: { retryAfterSeconds: 1 } });
}

/** A unary handler from `work`: the call's signal, shutdown manners, error mapping and metrics around it. */
export function unary<Req, Res>(
  deps: AppDeps,
  method: string,
  manners: Manners,
  work: (request: Req, signal: AbortSignal, call: ServerUnaryCall<Req, Res>) => Promise<Res> | Res,
): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    const started = deps.clock();
    const guard = callSignal(call, deps.limits.requestTimeoutMs);
    void (async () => {
      if (manners === 'serving' && deps.phase() === 'closing') throw shuttingDown();
      return work(call.request, guard.signal, call);
    })().then(
      (answer) => {
        guard.done();
        observe(deps, method, started, undefined, call.cancelled);
        callback(null, answer);
      },
      (e: unknown) => {
        guard.done();
        const error = asEeroError(e);
        observe(deps, method, started, error, call.cancelled);
        callback(grpcError(error));
      },
    );
  };
}

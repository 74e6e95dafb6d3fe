/**
 * The gRPC server beside the HTTP one: the same deps (models, batchers,
 * ledgers, limits, metrics, phase), its own port. Messages larger than the
 * body limit (plus 64 KiB of framing) are refused by grpc-js with
 * RESOURCE_EXHAUSTED before they are decoded. `close()` ends open streams,
 * refuses new calls (GOAWAY: clients retry elsewhere with UNAVAILABLE) and
 * waits for the calls in flight, forcing them after `graceMs`. Connections
 * per address are limited as on the HTTP port (connection-limit.ts).
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { Server as NetServer } from 'node:net';
import { EeroError } from '../../errors';
import { limitConnectionsPerAddress } from '../connection-limit';
import type { AppDeps } from '../server-types';
import { requestValueLimit } from '../v2';
import { healthService } from './health-service';
import { inferenceService, type Closers } from './inference-service';
import { boundedInference } from './message-bound';
import { loadServices } from './proto-files';

export interface GrpcOptions {
  port: number;
  host: string;
  /** Largest message accepted (the REST body limit, as bytes carry images raw). */
  maxReceiveBytes: number;
  /** Health Watch: how often the status is looked at. */
  watchPollMs?: number;
}

export interface GrpcListening {
  port: number;
  host: string;
  /** host:port, as a client dials it. */
  address: string;
  close(graceMs?: number): Promise<void>;
}

/**
 * limits.connectionsPerAddress on the gRPC port: a connection past it is closed at once (no session,
 * so no status to send). grpc-js keeps its HTTP/2 servers private (`http2Servers`); where that map is
 * missing the limit is not applied there (docs/api.md says so).
 */
function limitGrpcConnections(server: Server, limit: number): void {
  const http2Servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(http2Servers instanceof Map)) return;
  for (const http2Server of http2Servers.keys() as IterableIterator<NetServer>) {
    limitConnectionsPerAddress(http2Server, limit, (socket) => socket.destroy());
  }
}

function addressOf(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function bindError(e: Error, options: GrpcOptions): EeroError {
  if (/EADDRINUSE|address already in use/i.test(e.message)) {
    return new EeroError(
      'ADDRESS_IN_USE',
      `gRPC port ${options.port} on ${options.host} is already in use; choose another with --grpc-port or grpc.port`,
      {
        cause: e,
        details: { port: options.port, host: options.host },
      },
    );
  }
  return new EeroError('IO_ERROR', `cannot listen for gRPC on ${addressOf(options.host, options.port)}: ${e.message}`, { cause: e });
}

export function listenGrpc(deps: AppDeps, options: GrpcOptions): Promise<GrpcListening> {
  const services = loadServices();
  const server = new Server({
    'grpc.max_receive_message_length': options.maxReceiveBytes,
    // Answers are small (labels, probabilities, traces); this only bounds a runaway.
    'grpc.max_send_message_length': Math.max(4 * 1024 * 1024, options.maxReceiveBytes),
  });
  const closers: Closers = new Set();
  // The most values any served model's request may hold; more are refused before decoding (message-bound.ts).
  const values = Math.max(...[...deps.models.values()].map((m) => requestValueLimit(m.describe(), deps.limits.filesPerRequest)));
  server.addService(boundedInference(services.inference, values), inferenceService(deps, closers));
  server.addService(services.health, healthService(deps, closers, options.watchPollMs));
  return new Promise((resolve, reject) => {
    server.bindAsync(addressOf(options.host, options.port), ServerCredentials.createInsecure(), (error, port) => {
      if (error) {
        server.forceShutdown();
        reject(bindError(error, options));
        return;
      }
      limitGrpcConnections(server, deps.limits.connectionsPerAddress);
      let closing: Promise<void> | undefined;
      resolve({
        port,
        host: options.host,
        address: addressOf(options.host, port),
        close(graceMs = 5000) {
          closing ??= new Promise<void>((done) => {
            for (const close of [...closers]) close();
            const timer = setTimeout(() => server.forceShutdown(), graceMs);
            server.tryShutdown(() => {
              clearTimeout(timer);
              done();
            });
          });
          return closing;
        },
      });
    });
  });
}

/**
 * Who a request counts against for per-client limits: its API key when it
 * brings one (hashed: keys are not kept), else its address. Any string is a
 * key, so the limits a made-up key could dodge count per address too (new
 * routing rules); limits across addresses sit in front of the service
 * (docs/api.md "Limits").
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

function clientKey(req: IncomingMessage): string {
  const auth = req.headers.authorization ?? req.headers['x-api-key'];
  return clientKeyOf(Array.isArray(auth) ? auth[0] : auth, req.socket.remoteAddress);
}

/** Who asks, from which address, and on which connection. */
export interface Asker {
  /** What the per-client limits count against: the hashed API key, else the address. */
  client: string;
  /**
   * The batch queue and the decode pool are shared between addresses, then between an address's
   * connections: any string is a key, so a sender making up one per request would count as that
   * many clients there.
   */
  address: string;
  connection: string;
}

export function askerOf(req: IncomingMessage): Asker {
  const address = req.socket.remoteAddress ?? 'unknown';
  return { client: clientKey(req), address, connection: `${address}:${req.socket.remotePort ?? 0}` };
}

/** The same key from a credential (Authorization or x-api-key) and an address, whatever the transport (gRPC: metadata and peer). */
export function clientKeyOf(credential: string | undefined, address: string | undefined): string {
  if (credential) return `key:${createHash('sha256').update(credential).digest('hex').slice(0, 16)}`;
  return `addr:${address ?? 'unknown'}`;
}

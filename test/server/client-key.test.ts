/** Who a request counts against (its key, else its address), its address and its connection: the same for REST and gRPC. */
import type { IncomingMessage } from 'node:http';
import { Metadata } from '@grpc/grpc-js';
import { askerOf } from '../../src/server/client-key';
import { grpcAsker } from '../../src/server/grpc/call-guard';

function rest(headers: Record<string, string>, remoteAddress = '10.0.0.1', remotePort = 5000): IncomingMessage {
  return { headers, socket: { remoteAddress, remotePort } } as unknown as IncomingMessage;
}

function grpc(key: string | undefined, peer = '10.0.0.1:5000'): { metadata: Metadata; getPeer(): string } {
  const metadata = new Metadata();
  if (key !== undefined) metadata.set('x-api-key', key);
  return { metadata, getPeer: () => peer };
}

describe('the asker of a request', () => {
  it('without a key: the address is the client', () => {
    const asker = { client: 'addr:10.0.0.1', address: '10.0.0.1', connection: '10.0.0.1:5000' };
    expect(askerOf(rest({}))).toEqual(asker);
    expect(grpcAsker(grpc(undefined))).toEqual(asker);
  });

  it('with a key: the hashed key is the client, and the address and connection stay as they are', () => {
    const a = askerOf(rest({ 'x-api-key': 'k1' }));
    expect(a).toEqual({ client: expect.stringMatching(/^key:[0-9a-f]{16}$/), address: '10.0.0.1', connection: '10.0.0.1:5000' });
    expect(grpcAsker(grpc('k1'))).toEqual(a);
    expect(askerOf(rest({ authorization: 'k1' })).client).toBe(a.client);
    expect(askerOf(rest({ 'x-api-key': 'k2' })).client).not.toBe(a.client);
  });
});

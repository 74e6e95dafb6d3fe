/** The count behind limits.connectionsPerAddress, on a stand-in server and sockets: who is let in, refused, or closed at once. */
import { EventEmitter } from 'node:events';
import type { Server } from 'node:net';
import { limitConnectionsPerAddress } from '../../src/server/connection-limit';

class FakeSocket extends EventEmitter {
  destroyed = false;
  constructor(readonly remoteAddress: string) {
    super();
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
}

function setUp(limit: number): { connect: (address: string) => FakeSocket; refused: FakeSocket[] } {
  const server = new EventEmitter();
  const refused: FakeSocket[] = [];
  limitConnectionsPerAddress(server as unknown as Server, limit, (s) => refused.push(s as unknown as FakeSocket));
  return {
    connect: (address) => {
      const socket = new FakeSocket(address);
      server.emit('connection', socket);
      return socket;
    },
    refused,
  };
}

describe('connections per address', () => {
  it('lets `limit` in per address, hands the next ones to be refused, and frees a place when one closes', () => {
    const { connect, refused } = setUp(2);
    const [a, b] = [connect('10.0.0.1'), connect('10.0.0.1')];
    const third = connect('10.0.0.1');
    expect(refused).toEqual([third]);
    expect(connect('10.0.0.2').destroyed).toBe(false);
    expect(refused).toHaveLength(1);
    a.destroy();
    connect('10.0.0.1');
    expect(refused).toHaveLength(1);
    expect(b.destroyed).toBe(false);
  });

  it('closes at once a connection past 64 waiting to be refused, and none of the waiting ones', () => {
    const { connect, refused } = setUp(1);
    connect('10.0.0.1');
    const waiting = Array.from({ length: 64 }, () => connect('10.0.0.1'));
    expect(refused).toHaveLength(64);
    const extra = connect('10.0.0.1');
    expect([extra.destroyed, refused.length, waiting.some((s) => s.destroyed)]).toEqual([true, 64, false]);
    // One refused and gone: the next waits to be refused again.
    (waiting[0] as FakeSocket).destroy();
    expect(connect('10.0.0.1').destroyed).toBe(false);
    expect(refused).toHaveLength(65);
  });

  it('does nothing with a limit of 0', () => {
    const { connect, refused } = setUp(0);
    for (let i = 0; i < 10; i++) expect(connect('10.0.0.1').destroyed).toBe(false);
    expect(refused).toHaveLength(0);
  });
});

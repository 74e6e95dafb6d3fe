import { acceptQueueIn } from '../../src/server/accept-queue';

// Lines as /proc/net/tcp writes them: LISTEN is state 0A, and its rx_queue is the accept queue.
const TABLE = [
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 0100007F:98A3 00000000:0000 0A 00000000:00000015 00:00000000 00000000     0        0 400926 1 00000000114e43a3 100 0 0 10 0',
  '   1: 00000000:98A3 00000000:0000 0A 00000000:00000002 00:00000000 00000000     0        0 1087 1 00000000cd85da35 100 0 0 10 0',
  '   2: 0100007F:98A3 0100007F:951F 01 00000000:00000040 03:00000CAC 00000000     0        0 0 3 00000000a7f7610c',
  '   3: 0100007F:07E8 00000000:0000 0A 00000000:00000007 00:00000000 00000000     0        0 1088 1 00000000cd85da36 100 0 0 10 0',
  '',
].join('\n');

describe('acceptQueueIn', () => {
  test('sums the rx_queue (hex) of the LISTEN sockets on the port, on every address', () => {
    expect(acceptQueueIn(TABLE, 0x98a3)).toBe(0x15 + 2);
  });

  test('ignores established connections on the port and listeners on other ports', () => {
    expect(acceptQueueIn(TABLE, 0x07e8)).toBe(7);
    expect(acceptQueueIn(TABLE, 0x951f)).toBe(0);
  });

  test('matches the whole port, not a suffix of it (port 0x98A3 is not port 0x8A3)', () => {
    expect(acceptQueueIn(TABLE, 0x8a3)).toBe(0);
  });
});

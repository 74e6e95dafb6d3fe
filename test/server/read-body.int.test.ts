import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { watchPieces } from '../../src/server/read-body';

describe('watchPieces on a real connection', () => {
  test('once refused, not one more byte is read off the socket (a 6 MB body in one-byte chunks)', async () => {
    const read: number[] = [];
    const server = createServer((req, res) => {
      watchPieces(req, () => {
        read.push(req.socket.bytesRead);
        req.socket.once('close', () => read.push(req.socket.bytesRead));
        res.writeHead(400, { Connection: 'close' }).end();
      });
      req.resume();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const head = 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n';
    const chunk = Buffer.from('1\r\nX\r\n');
    const flood = Buffer.concat([Buffer.from(head), Buffer.alloc(chunk.length * 1_000_000, chunk), Buffer.from('0\r\n\r\n')]);
    await new Promise<void>((done) => {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined); // the server may reset the rest of the upload
      socket.on('close', () => done());
      socket.resume();
      socket.end(flood);
    });
    await new Promise<void>((r) => server.close(() => r()));
    expect(read).toHaveLength(2);
    expect(read[1]).toBe(read[0]);
    expect(read[0]).toBeLessThan(flood.length / 10);
  });
});

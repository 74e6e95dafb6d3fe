import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import type { EeroError } from '../../src/errors';
import { closesAfterAnswer, watchPieces } from '../../src/server/read-body';

/** A readable body fed piece by piece, standing in for a request. */
function body(): { req: IncomingMessage; send: (count: number, size: number) => void } {
  const stream = new PassThrough();
  const req = stream as unknown as IncomingMessage;
  const send = (count: number, size: number): void => {
    for (let i = 0; i < count; i++) stream.write(Buffer.alloc(size));
  };
  return { req, send };
}

const refusals = (req: IncomingMessage): EeroError[] => {
  const seen: EeroError[] = [];
  watchPieces(req, (e) => seen.push(e));
  return seen;
};

describe('watchPieces: a body in thousands of tiny pieces is refused, and the rest is not read', () => {
  test('5,000 pieces of 600 bytes pass; so do 1,024 of one byte', async () => {
    const big = body();
    const bigSeen = refusals(big.req);
    big.req.resume();
    big.send(5000, 600);
    const small = body();
    const smallSeen = refusals(small.req);
    small.req.resume();
    small.send(1024, 1);
    await new Promise((r) => setImmediate(r));
    expect([bigSeen.length, smallSeen.length, closesAfterAnswer(big.req), closesAfterAnswer(small.req)]).toEqual([0, 0, false, false]);
  });

  test('the 1,025th piece of one byte is refused once (BAD_REQUEST), the body paused and marked to close its connection', async () => {
    const { req, send } = body();
    const seen = refusals(req);
    req.resume();
    send(5000, 1);
    await new Promise((r) => setImmediate(r));
    expect(seen.map((e) => [e.code, e.details?.pieces])).toEqual([['BAD_REQUEST', 1025]]);
    expect(req.isPaused()).toBe(true);
    expect(closesAfterAnswer(req)).toBe(true);
  });
});

import type { IncomingMessage } from 'node:http';
import { EeroError } from '../errors';

function tooLarge(limit: number, declared?: number): EeroError {
  return new EeroError('BODY_TOO_LARGE', `the request body is larger than the limit of ${limit} bytes`, {
    details: { limitBytes: limit, ...(declared === undefined ? {} : { declaredBytes: declared }) },
  });
}

/**
 * A body that arrives in more than this many pieces averaging under
 * MIN_PIECE_BYTES is refused, and the rest of it is not read. Node parses and
 * hands over every piece on the event loop: 1,000,000 one-byte chunks
 * (chunked encoding, 6 MB on the wire) took 2.7 s, 3,000,000 took 9.3 s. A
 * client's pieces are its chunks, or what each read of the socket brings
 * (tens of KB for a plain body), so only a body of over 1,024 pieces under
 * 512 KB in all can be refused.
 */
const MAX_SMALL_PIECES = 1024;
const MIN_PIECE_BYTES = 512;

/** Requests whose rest is not to be read: their answer closes the connection (sendError). */
const leftUnread = new WeakSet<IncomingMessage>();

export const closesAfterAnswer = (req: IncomingMessage): boolean => leftUnread.has(req);

interface NodeInternals {
  /** Set, IncomingMessage's parser callback drops the body's further pieces instead of buffering them. */
  _dumped?: boolean;
  socket?: { _handle?: { reading?: boolean; readStop?: () => unknown } | null };
}

/**
 * Reads no more of `req`'s connection. The parser still hands over the pieces
 * of the read already made (up to 64 KB, some 10,000 one-byte chunks), and
 * pausing the body does not stop the socket: Node's parser reads it in C++ and
 * restarts reads when the answer is written, so a refused flood cost about
 * 50 ms of the loop per connection. With the socket's reads stopped and the
 * pieces dropped, 14 ms (a one-byte-chunk flood, 40 connections in a row; a
 * scratch probe). Both are Node internals (net's _handle, IncomingMessage's
 * _dumped); where they are missing the body is only paused, as before.
 */
function stopReading(req: IncomingMessage): void {
  req.pause();
  const inner = req as unknown as NodeInternals;
  inner._dumped = true;
  const handle = inner.socket?._handle;
  if (handle && typeof handle.readStop === 'function') {
    handle.reading = false;
    handle.readStop();
  }
}

/** Reads no more of `req`'s body, and closes its connection after the answer (error-response.ts). */
export function leaveUnread(req: IncomingMessage): void {
  leftUnread.add(req);
  stopReading(req);
}

/**
 * Counts the pieces of `req`'s body as they come; once there are too many
 * tiny ones, stops reading its connection, marks it to be closed after the
 * answer and calls `refuse` (once). Returns the listener's remover.
 */
export function watchPieces(req: IncomingMessage, refuse: (error: EeroError) => void): () => void {
  let pieces = 0;
  let bytes = 0;
  const onData = (chunk: Buffer): void => {
    pieces++;
    bytes += chunk.length;
    if (pieces <= MAX_SMALL_PIECES || bytes >= pieces * MIN_PIECE_BYTES) return;
    req.off('data', onData);
    leaveUnread(req);
    refuse(
      new EeroError(
        'BAD_REQUEST',
        `the body came in more than ${MAX_SMALL_PIECES} pieces of under ${MIN_PIECE_BYTES} bytes on average; send it in larger chunks`,
        { details: { pieces, bytes } },
      ),
    );
  };
  req.on('data', onData);
  return () => req.off('data', onData);
}

/** A declared Content-Length over the limit is refused before reading anything. */
export function checkDeclaredLength(req: IncomingMessage, limit: number): void {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit, declared);
}

/**
 * The whole body, at most `limit` bytes. Past the limit the rest is discarded
 * (Node reads and drops it after the answer) and BODY_TOO_LARGE is thrown.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  checkDeclaredLength(req, limit);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const unwatch = watchPieces(req, (error) => {
      cleanup();
      chunks.length = 0;
      reject(error);
    });
    const cleanup = (): void => {
      unwatch();
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        chunks.length = 0;
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(new EeroError('ABORTED', `the request body could not be read: ${e.message}`, { cause: e }));
    };
    const onAborted = (): void => onError(new Error('the client aborted the upload'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

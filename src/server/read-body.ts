import type { IncomingMessage } from 'node:http';
import { EeroError } from '../errors';

function tooLarge(limit: number, declared?: number): EeroError {
  return new EeroError('BODY_TOO_LARGE', `the request body is larger than the limit of ${limit} bytes`, {
    details: { limitBytes: limit, ...(declared === undefined ? {} : { declaredBytes: declared }) },
  });
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
    const cleanup = (): void => {
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

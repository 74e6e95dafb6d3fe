/**
 * Raw HTTP/1.1 over node:net, for bodies fetch cannot send: a multipart body
 * cut anywhere, a Content-Length that promises more than is sent, bytes that
 * are no valid anything. One request per connection (`Connection: close`).
 */
import { connect } from 'node:net';

export type RawAnswer =
  | { kind: 'answer'; status: number; headers: Record<string, string>; body: Buffer }
  /** The connection closed (or reset) before a complete answer came. */
  | { kind: 'closed'; error?: string; received: number }
  | { kind: 'timeout'; received: number };

export interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Content-Length to declare; default: the body's length. `null`: send none (and no Transfer-Encoding). */
  contentLength?: number | null;
  /** Send the body with chunked Transfer-Encoding (one chunk, then the terminator) instead of Content-Length. */
  chunked?: boolean;
  /**
   * After the body, half-close the socket: the upload stops there. Node's
   * server (httpAllowHalfOpen false) then drops the request and ends the
   * connection, so only a client that gives up does this. Default false.
   */
  endAfterBody?: boolean;
  timeoutMs?: number;
}

function parseAnswer(bytes: Buffer): RawAnswer | undefined {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const [statusLine = '', ...lines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!m) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const at = line.indexOf(':');
    if (at > 0) headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
  }
  let body = bytes.subarray(headEnd + 4);
  if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    if (body.length < n) return undefined;
    body = body.subarray(0, n);
  } else if (headers['transfer-encoding'] === 'chunked') {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const lineEnd = body.indexOf('\r\n', at);
      if (lineEnd < 0) return undefined;
      const size = parseInt(body.subarray(at, lineEnd).toString('latin1'), 16);
      if (size === 0) break;
      if (lineEnd + 2 + size > body.length) return undefined;
      parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  }
  return { kind: 'answer', status: Number(m[1]), headers, body };
}

export function rawRequest(port: number, req: RawRequest): Promise<RawAnswer> {
  const body = req.body ?? Buffer.alloc(0);
  const headers: Record<string, string> = { host: `127.0.0.1:${port}`, connection: 'close', ...req.headers };
  if (req.chunked) headers['transfer-encoding'] = 'chunked';
  else if (req.contentLength !== null) headers['content-length'] = String(req.contentLength ?? body.length);
  const head = `${req.method ?? 'POST'} ${req.path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
  const payload = req.chunked
    ? Buffer.concat([
        Buffer.from(body.length > 0 ? `${body.length.toString(16)}\r\n` : ''),
        body,
        Buffer.from(body.length > 0 ? '\r\n0\r\n\r\n' : '0\r\n\r\n'),
      ])
    : body;
  return new Promise<RawAnswer>((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let error: string | undefined;
    const socket = connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ kind: 'timeout', received });
    }, req.timeoutMs ?? 15_000);
    socket.on('connect', () => {
      socket.write(Buffer.concat([Buffer.from(head, 'latin1'), payload]));
      if (req.endAfterBody === true) socket.end();
    });
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      received += d.length;
    });
    // EPIPE/ECONNRESET after the server answered early are expected: the answer read so far decides.
    socket.on('error', (e) => (error = e.message));
    socket.on('close', () => {
      clearTimeout(timer);
      const answer = parseAnswer(Buffer.concat(chunks));
      resolve(answer ?? { kind: 'closed', received, ...(error === undefined ? {} : { error }) });
    });
  });
}

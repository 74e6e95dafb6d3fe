/** multipart/form-data with busboy: files in memory (bounded), fields as strings. */
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { EeroError } from '../errors';
import { checkDeclaredLength, closesAfterAnswer, watchPieces } from './read-body';

export interface UploadedFile {
  /** The part's filename, or its field name when it has none. */
  file: string;
  mimeType: string;
  bytes: Buffer | EeroError;
}

export interface MultipartBody {
  files: UploadedFile[];
  /** A field sent twice keeps both values (params refuses it, as for a repeated query parameter). */
  fields: Record<string, string | string[]>;
}

export interface MultipartLimits {
  /** Bytes of all files together (and of any one file). */
  bodyBytes: number;
  files: number;
}

/** Framing (boundaries, part headers) allowed on top of the files' bytes before the declared length is refused. */
const FRAMING_ALLOWANCE = 1024 * 1024;
const MAX_FIELDS = 32;
const MAX_FIELD_BYTES = 1024;

export function readMultipart(req: IncomingMessage, limits: MultipartLimits): Promise<MultipartBody> {
  checkDeclaredLength(req, limits.bodyBytes + FRAMING_ALLOWANCE);
  return new Promise<MultipartBody>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        // RFC 7578: file names are UTF-8 (busboy's default reads them as latin1).
        defParamCharset: 'utf8',
        limits: { fileSize: limits.bodyBytes, files: limits.files, fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES },
      });
    } catch (e) {
      reject(new EeroError('BAD_PARAMETER', `malformed multipart request: ${(e as Error).message}`, { cause: e }));
      return;
    }
    const files: UploadedFile[] = [];
    const fields: Record<string, string | string[]> = {};
    let total = 0;
    let settled = false;
    const fail = (error: EeroError): void => {
      if (settled) return;
      settled = true;
      unwatch();
      req.unpipe(parser);
      parser.removeAllListeners();
      parser.on('error', () => undefined);
      // Discard the rest (the answer goes out as soon as the handler throws), unless it is not to be read at all.
      if (!closesAfterAnswer(req)) req.resume();
      reject(error);
    };
    const unwatch = watchPieces(req, fail);
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      const entry: UploadedFile = { file: info.filename ?? name, mimeType: info.mimeType, bytes: Buffer.alloc(0) };
      files.push(entry);
      stream.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > limits.bodyBytes) {
          fail(
            new EeroError('BODY_TOO_LARGE', `the files together are larger than the limit of ${limits.bodyBytes} bytes`, {
              details: { limitBytes: limits.bodyBytes },
            }),
          );
          return;
        }
        chunks.push(chunk);
      });
      stream.on('limit', () => {
        entry.bytes = new EeroError('BODY_TOO_LARGE', `file is larger than the limit of ${limits.bodyBytes} bytes`, {
          details: { limitBytes: limits.bodyBytes },
        });
      });
      stream.on('end', () => {
        if (!(entry.bytes instanceof EeroError)) entry.bytes = Buffer.concat(chunks);
      });
      // A part cut before its closing boundary errors here ("Unexpected end of form"); unheard, it would end the process.
      stream.on('error', (e: Error) => fail(new EeroError('BAD_PARAMETER', `malformed multipart request: ${e.message}`, { cause: e })));
    });
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) fail(new EeroError('BAD_PARAMETER', `form field "${name}" is longer than ${MAX_FIELD_BYTES} bytes`));
      else {
        const had = fields[name];
        fields[name] = had === undefined ? value : [had, value].flat();
      }
    });
    parser.on('filesLimit', () => {
      fail(new EeroError('TOO_MANY_FILES', `more than ${limits.files} files in one request`, { details: { limit: limits.files } }));
    });
    parser.on('fieldsLimit', () => fail(new EeroError('BAD_PARAMETER', `more than ${MAX_FIELDS} form fields`)));
    parser.on('error', (e: unknown) =>
      fail(new EeroError('BAD_PARAMETER', `malformed multipart request: ${(e as Error).message}`, { cause: e })),
    );
    parser.on('close', () => {
      if (settled) return;
      settled = true;
      resolve({ files, fields });
    });
    req.on('aborted', () => fail(new EeroError('ABORTED', 'the client aborted the upload')));
    req.pipe(parser);
  });
}

/** Bodies for the hostile-input suite: a multipart request with its structural positions, and image header fields to damage. */
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { ERROR_CODES, type ErrorCode } from '../../src/errors';
import type { RawAnswer } from './raw-http';

export interface MultipartSample {
  body: Buffer;
  contentType: string;
  /** Offsets where a cut is most likely to find a bug: around boundaries, inside part headers, inside data. */
  cuts: number[];
  /** Where the closing delimiter `--boundary--` ends: any cut before it is an incomplete form. */
  closeEnd: number;
}

/** A real form: one field, then the files, each part's landmarks recorded as it is written. */
export function multipartSample(files: Buffer[], field = { name: 'budget', value: '0.5' }): MultipartSample {
  const boundary = 'eeroHostile7MA4YWxkTrZu0gW';
  const pieces: Buffer[] = [];
  const marks: number[] = [];
  let at = 0;
  const put = (b: Buffer | string): void => {
    const buf = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
    pieces.push(buf);
    at += buf.length;
  };
  /** A run of bytes with its start, second byte, middle, last byte and end marked. */
  const span = (b: Buffer | string): void => {
    const start = at;
    put(b);
    marks.push(start, start + 1, Math.floor((start + at) / 2), at - 1, at);
  };
  const parts = [
    { head: `Content-Disposition: form-data; name="${field.name}"`, data: Buffer.from(field.value) },
    ...files.map((data, i) => ({
      head: `Content-Disposition: form-data; name="image"; filename="${i}.png"\r\nContent-Type: image/png`,
      data,
    })),
  ];
  for (const part of parts) {
    span(`--${boundary}`);
    span('\r\n');
    span(part.head);
    span('\r\n\r\n');
    span(part.data);
    span('\r\n');
  }
  span(`--${boundary}--`);
  const closeEnd = at;
  span('\r\n');
  const body = Buffer.concat(pieces);
  const cuts = [...new Set(marks.flatMap((m) => [m - 1, m, m + 1]))].filter((c) => c >= 0 && c <= body.length).sort((a, b) => a - b);
  return { body, contentType: `multipart/form-data; boundary=${boundary}`, cuts, closeEnd };
}

export type Flavour = 'v1' | 'v2';

/**
 * The property every answer must have: a 200 with JSON, or a JSON error whose
 * code is one of src/errors.ts with that code's status, never INTERNAL (a
 * client's bytes are never the server's fault). Returns what is wrong, or undefined.
 */
export function answerProblem(a: RawAnswer, flavour: Flavour): string | undefined {
  if (a.kind !== 'answer') return `no answer: ${JSON.stringify(a)}`;
  let json: unknown;
  try {
    json = JSON.parse(a.body.toString('utf8'));
  } catch {
    return `status ${a.status} with a body that is not JSON: ${JSON.stringify(a.body.toString('utf8').slice(0, 200))}`;
  }
  if (a.status === 200) return undefined;
  const error = (json as { error?: unknown }).error;
  let code: string | undefined;
  let message: unknown;
  if (flavour === 'v2') {
    const m = typeof error === 'string' ? /^([A-Z_]+): ([^]+)$/.exec(error) : null;
    code = m?.[1];
    message = m?.[2];
  } else if (typeof error === 'object' && error !== null) {
    ({ code, message } = error as { code?: string; message?: unknown });
  }
  const expected = code !== undefined && code in ERROR_CODES ? ERROR_CODES[code as ErrorCode] : undefined;
  if (expected === undefined || typeof message !== 'string' || message === '')
    return `not a ${flavour} error answer: ${a.status} ${JSON.stringify(json)}`;
  if (expected !== a.status) return `${code} should be status ${expected}, was ${a.status}`;
  if (code === 'INTERNAL') return `a client's input caused an internal error: ${String(message)}`;
  return undefined;
}

export function expectWellFormed(a: RawAnswer, flavour: Flavour, what: string): void {
  const problem = answerProblem(a, flavour);
  if (problem !== undefined) throw new Error(`${what}: ${problem}`);
}

/** The status and code of an answer (v1 or v2 shape), for exact expectations. */
export function codeOf(a: RawAnswer): { status: number; code: string | undefined } {
  if (a.kind !== 'answer') return { status: -1, code: a.kind };
  const error = (JSON.parse(a.body.toString('utf8')) as { error?: string | { code?: string } }).error;
  return { status: a.status, code: typeof error === 'string' ? error.split(':')[0] : error?.code };
}

/** One header field of an encoded image: where it is and how long, in bytes. */
export interface Field {
  offset: number;
  size: 1 | 2 | 4;
  littleEndian: boolean;
}

export interface ImageSample {
  format: 'png' | 'jpeg' | 'gif' | 'webp';
  bytes: Buffer;
  /** Width, height, chunk/segment lengths and the like. */
  fields: Field[];
  /** Bytes worth flipping one at a time: the headers, not the compressed data. */
  headerEnd: number;
}

const be = (offset: number, size: 1 | 2 | 4): Field => ({ offset, size, littleEndian: false });
const le = (offset: number, size: 1 | 2 | 4): Field => ({ offset, size, littleEndian: true });

/** The JPEG's segment lengths up to SOS, and the SOFn frame's height and width. */
function jpegFields(b: Buffer): { fields: Field[]; headerEnd: number } {
  const fields: Field[] = [];
  let at = 2;
  while (at + 4 <= b.length && b[at] === 0xff) {
    const marker = b[at + 1] as number;
    const length = b.readUInt16BE(at + 2);
    fields.push(be(at + 2, 2));
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      fields.push(be(at + 4, 1), be(at + 5, 2), be(at + 7, 2), be(at + 9, 1)); // precision, height, width, components
    }
    if (marker === 0xda) return { fields, headerEnd: at + 2 + length };
    at += 2 + length;
  }
  return { fields, headerEnd: at };
}

/** PNG chunk lengths, IHDR's width, height, depth and colour type. */
function pngFields(b: Buffer): { fields: Field[]; headerEnd: number } {
  const fields: Field[] = [be(16, 4), be(20, 4), be(24, 1), be(25, 1), be(28, 1)];
  let at = 8;
  let headerEnd = 8;
  while (at + 8 <= b.length) {
    fields.push(be(at, 4));
    const length = b.readUInt32BE(at);
    if (b.toString('latin1', at + 4, at + 8) === 'IDAT' && headerEnd === 8) headerEnd = at + 8;
    at += 12 + length;
  }
  return { fields, headerEnd };
}

/** Test images of every format with header fields, made from one fixture. */
export async function imageSamples(png: Buffer): Promise<ImageSample[]> {
  const base = sharp(png).resize(24, 20);
  const jpeg = await base.clone().jpeg({ quality: 80 }).toBuffer();
  const gif = await base.clone().gif().toBuffer();
  const webp = await base.clone().webp({ quality: 80 }).toBuffer();
  const lossless = await base.clone().webp({ lossless: true }).toBuffer();
  const p = pngFields(png);
  const j = jpegFields(jpeg);
  // GIF: logical screen width/height (6, 8), flags; the image descriptor follows the colour table.
  const table = (gif[10] as number) & 0x80 ? 3 << (((gif[10] as number) & 7) + 1) : 0;
  const descriptor = 13 + table;
  const gifFields = [
    le(6, 2),
    le(8, 2),
    le(10, 1),
    le(descriptor + 1, 2),
    le(descriptor + 3, 2),
    le(descriptor + 5, 2),
    le(descriptor + 7, 2),
    le(descriptor + 9, 1),
  ];
  // WebP: RIFF size (4), chunk size (16); VP8 frame width/height at 26/28 (14 bits), VP8L packed size at 21.
  const webpFields = (): Field[] => [le(4, 4), le(16, 4), le(20, 4), le(24, 2), le(26, 2), le(28, 2)];
  return [
    { format: 'png', bytes: png, fields: p.fields, headerEnd: p.headerEnd },
    { format: 'jpeg', bytes: jpeg, fields: j.fields, headerEnd: j.headerEnd },
    { format: 'gif', bytes: gif, fields: gifFields, headerEnd: descriptor + 11 },
    { format: 'webp', bytes: webp, fields: webpFields(), headerEnd: 32 },
    { format: 'webp', bytes: lossless, fields: webpFields(), headerEnd: 32 },
  ];
}

/** `value` written into `field` (truncated to its size), the PNG chunk CRCs fixed when `fixCrc` so the decoder reads on. */
export function mutate(sample: ImageSample, field: Field, value: number, fixCrc: boolean): Buffer {
  const out = Buffer.from(sample.bytes);
  const v = value % 2 ** (8 * field.size);
  if (field.offset + field.size > out.length) return out;
  if (field.size === 1) out.writeUInt8(v, field.offset);
  else if (field.size === 2 && field.littleEndian) out.writeUInt16LE(v, field.offset);
  else if (field.size === 2) out.writeUInt16BE(v, field.offset);
  else if (field.littleEndian) out.writeUInt32LE(v, field.offset);
  else out.writeUInt32BE(v, field.offset);
  if (fixCrc && sample.format === 'png') fixPngCrcs(out);
  return out;
}

/** Rewrites each chunk's CRC (as far as the chunk lengths still make sense). */
export function fixPngCrcs(png: Buffer): void {
  let at = 8;
  while (at + 12 <= png.length) {
    const length = png.readUInt32BE(at);
    if (at + 12 + length > png.length) return;
    png.writeUInt32BE(crc32(png.subarray(at + 4, at + 8 + length)) >>> 0, at + 8 + length);
    at += 12 + length;
  }
}

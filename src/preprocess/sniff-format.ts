/**
 * Image formats recognised from their first bytes (magic numbers), without
 * decoding anything. Used for fast NOT_AN_IMAGE / UNSUPPORTED_FORMAT answers
 * and by the HTTP layer to check a body before it is queued.
 */

/** Formats this service decodes (see `decodableFormats` for this build). */
export type DecodableFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif';

/** Every format `sniffFormat` can name; the rest are recognised only to be refused. */
export type ImageFormat = DecodableFormat | 'heif' | 'bmp' | 'svg' | 'jp2' | 'jxl' | 'psd';

/** The raster formats this service accepts; `decodableFormats()` narrows it to what this sharp build reads. */
export const DECODABLE_FORMATS: readonly DecodableFormat[] = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'];

/** The MIME type of each format, for Content-Type checks and replies. */
export const FORMAT_MIME_TYPES: Readonly<Record<ImageFormat, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  tiff: 'image/tiff',
  avif: 'image/avif',
  heif: 'image/heif',
  bmp: 'image/bmp',
  svg: 'image/svg+xml',
  jp2: 'image/jp2',
  jxl: 'image/jxl',
  psd: 'image/vnd.adobe.photoshop',
};

export function isDecodableFormat(format: ImageFormat | undefined): format is DecodableFormat {
  return format !== undefined && (DECODABLE_FORMATS as readonly string[]).includes(format);
}

/** True when `bytes` holds `magic` at `offset`. */
function has(bytes: Uint8Array, offset: number, magic: readonly number[]): boolean {
  if (bytes.length < offset + magic.length) return false;
  return magic.every((b, i) => bytes[offset + i] === b);
}

function ascii(text: string): number[] {
  return Array.from(text, (ch) => ch.charCodeAt(0));
}

function readAscii(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, end));
}

const ISO_BOX_JP2 = [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a];
const ISO_BOX_JXL = [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a];
const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1']);

/** An ISO-BMFF `ftyp` box: AVIF when any brand says so, HEIF (HEVC) for the other HEIF brands. */
function sniffFtyp(bytes: Uint8Array): 'avif' | 'heif' | undefined {
  if (!has(bytes, 4, ascii('ftyp')) || bytes.length < 12) return undefined;
  const boxSize = ((bytes[0] ?? 0) << 24) | ((bytes[1] ?? 0) << 16) | ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0);
  const end = Math.min(bytes.length, boxSize >= 16 ? boxSize : 12, 256);
  const brands = [readAscii(bytes, 8, 12)];
  for (let at = 16; at + 4 <= end; at += 4) brands.push(readAscii(bytes, at, at + 4));
  if (brands.some((b) => AVIF_BRANDS.has(b))) return 'avif';
  if (brands.some((b) => HEIF_BRANDS.has(b))) return 'heif';
  return undefined;
}

/** BMP has a two-letter magic; also require a known DIB header size so text starting "BM" is not taken for one. */
function isBmp(bytes: Uint8Array): boolean {
  if (!has(bytes, 0, ascii('BM')) || bytes.length < 18) return false;
  const dibSize = (bytes[14] ?? 0) | ((bytes[15] ?? 0) << 8) | ((bytes[16] ?? 0) << 16) | ((bytes[17] ?? 0) << 24);
  return [12, 40, 52, 56, 64, 108, 124].includes(dibSize);
}

/** SVG is text: an `<svg` element near the start of something that opens like XML. */
function isSvg(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 4096))
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  return head.startsWith('<') && /<svg[\s>]/i.test(head);
}

/**
 * Names the image format from magic bytes, or `undefined` when the bytes are
 * not a recognised image (text, PDF, random data, an empty buffer).
 */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (has(bytes, 0, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (has(bytes, 0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (has(bytes, 0, ascii('GIF87a')) || has(bytes, 0, ascii('GIF89a'))) return 'gif';
  if (has(bytes, 0, ascii('RIFF')) && has(bytes, 8, ascii('WEBP'))) return 'webp';
  if (has(bytes, 0, [0x49, 0x49, 0x2a, 0x00]) || has(bytes, 0, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (has(bytes, 0, [0x49, 0x49, 0x2b, 0x00]) || has(bytes, 0, [0x4d, 0x4d, 0x00, 0x2b])) return 'tiff';
  const iso = sniffFtyp(bytes);
  if (iso !== undefined) return iso;
  if (has(bytes, 0, ISO_BOX_JP2) || has(bytes, 0, [0xff, 0x4f, 0xff, 0x51])) return 'jp2';
  if (has(bytes, 0, ISO_BOX_JXL) || has(bytes, 0, [0xff, 0x0a])) return 'jxl';
  if (has(bytes, 0, ascii('8BPS'))) return 'psd';
  if (isBmp(bytes)) return 'bmp';
  if (isSvg(bytes)) return 'svg';
  return undefined;
}

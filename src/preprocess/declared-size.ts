/**
 * Width and height as an image's own header declares them, read in plain
 * JavaScript from the first bytes of each accepted format, without libvips
 * and without the thread pool: the size limits refuse a bomb before anything
 * is queued or decoded. `undefined` when the header is too damaged to say;
 * libvips then reads it (and the same limits are checked on what it reads).
 * A JPEG with thousands of markers before its frame is refused (CORRUPT_IMAGE).
 */
import { declaredIsoSize, declaredTiffSize } from './declared-size-boxed';
import { MAX_HEADER_PARTS, tooManyHeaderParts } from './image-limits';
import { isStartOfFrame } from './jpeg-header';
import { declaredPngSize } from './png-size';
import type { DecodableFormat } from './sniff-format';

export interface DeclaredSize {
  width: number;
  height: number;
}

const u16le = (b: Uint8Array, at: number): number => (b[at] as number) | ((b[at + 1] as number) << 8);
const u16be = (b: Uint8Array, at: number): number => ((b[at] as number) << 8) | (b[at + 1] as number);
const u24le = (b: Uint8Array, at: number): number => u16le(b, at) | ((b[at + 2] as number) << 16);

/** GIF: the logical screen, grown to the first frame's extent (a frame may overhang it; decoders then grow the canvas). */
function gifSize(b: Uint8Array): DeclaredSize | undefined {
  if (b.length < 13) return undefined;
  let width = u16le(b, 6);
  let height = u16le(b, 8);
  const flags = b[10] as number;
  let at = 13 + (flags & 0x80 ? 3 << ((flags & 7) + 1) : 0);
  // Skip extensions (0x21 label, then sub-blocks) up to the first image descriptor (0x2c).
  while (at < b.length) {
    const introducer = b[at];
    if (introducer === 0x2c) {
      if (at + 9 > b.length) break;
      width = Math.max(width, u16le(b, at + 1) + u16le(b, at + 5));
      height = Math.max(height, u16le(b, at + 3) + u16le(b, at + 7));
      break;
    }
    if (introducer !== 0x21) break;
    at += 2;
    while (at < b.length && b[at] !== 0) at += (b[at] as number) + 1;
    at += 1;
  }
  return width > 0 && height > 0 ? { width, height } : undefined;
}

/** WebP: the VP8X canvas, or the lossy (VP8) or lossless (VP8L) frame header of a simple file. */
function webpSize(b: Uint8Array): DeclaredSize | undefined {
  if (b.length < 30) return undefined;
  const chunk = String.fromCharCode(b[12] as number, b[13] as number, b[14] as number, b[15] as number);
  if (chunk === 'VP8X') return { width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
  if (chunk === 'VP8L') {
    if (b[20] !== 0x2f) return undefined;
    const bits = ((b[21] as number) | ((b[22] as number) << 8) | ((b[23] as number) << 16) | ((b[24] as number) << 24)) >>> 0;
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8 ') {
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return undefined;
    const width = u16le(b, 26) & 0x3fff;
    const height = u16le(b, 28) & 0x3fff;
    return width > 0 && height > 0 ? { width, height } : undefined;
  }
  return undefined;
}

/** JPEG: the first start-of-frame segment's size, walking the marker segments that precede it; CORRUPT_IMAGE past too many. */
function jpegSize(b: Uint8Array): DeclaredSize | undefined {
  let at = 2;
  for (let steps = 0; at + 4 <= b.length; steps++) {
    if (steps === MAX_HEADER_PARTS) throw tooManyHeaderParts('JPEG', 'markers before its frame header');
    if (b[at] !== 0xff) return undefined;
    const marker = b[at + 1] as number;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      at += 2; // markers without a length
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return undefined; // scan data or the end before any frame header
    const length = u16be(b, at + 2);
    if (isStartOfFrame(marker)) {
      if (at + 9 > b.length) return undefined;
      const height = u16be(b, at + 5);
      const width = u16be(b, at + 7);
      // A height of 0 is defined later by a DNL segment; libvips reads that one.
      return width > 0 && height > 0 ? { width, height } : undefined;
    }
    if (length < 2) return undefined;
    at += 2 + length;
  }
  return undefined;
}

/** The size the header of `bytes` (already sniffed as `format`) declares, or undefined when it cannot be read. */
export function declaredSize(bytes: Uint8Array, format: DecodableFormat): DeclaredSize | undefined {
  switch (format) {
    case 'png':
      return declaredPngSize(bytes);
    case 'gif':
      return gifSize(bytes);
    case 'webp':
      return webpSize(bytes);
    case 'jpeg':
      return jpegSize(bytes);
    case 'tiff':
      return declaredTiffSize(bytes);
    case 'avif':
      return declaredIsoSize(bytes);
  }
}

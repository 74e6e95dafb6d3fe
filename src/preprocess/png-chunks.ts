/**
 * A PNG's chunk structure, walked in plain JavaScript: the IHDR fields, the
 * IDAT payloads and which other chunks are present. Anything unexpected
 * (a length past the end, a wrong CRC when CRCs are checked, bytes after
 * IEND, a missing IHDR, more than MAX_HEADER_PARTS chunks) gives `undefined`:
 * the caller then leaves the file to libvips (which reads a file of millions
 * of empty chunks in milliseconds) and it decides how it is refused.
 */
import { crc32 } from 'node:zlib';
import { MAX_HEADER_PARTS } from './image-limits';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export interface PngChunks {
  width: number;
  height: number;
  bitDepth: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGBA. */
  colourType: number;
  interlaced: boolean;
  /** The IDAT payloads in order (views into the file). */
  idat: Uint8Array[];
  /** The other chunk types, in order (IHDR, IDAT and IEND left out). */
  others: string[];
  /** pHYs unit specifiers seen (0 unknown, 1 metre), for checking them. */
  physUnits: number[];
}

function u32(b: Uint8Array, at: number): number {
  return (((b[at] as number) << 24) | ((b[at + 1] as number) << 16) | ((b[at + 2] as number) << 8) | (b[at + 3] as number)) >>> 0;
}

function typeAt(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at] as number, b[at + 1] as number, b[at + 2] as number, b[at + 3] as number);
}

/** Walks every chunk up to IEND, which must end the file. `checkCrc`: each chunk's CRC must match too. */
export function walkPng(bytes: Uint8Array, checkCrc: boolean): PngChunks | undefined {
  if (bytes.length < 8 + 25 + 12 || SIGNATURE.some((v, i) => bytes[i] !== v)) return undefined;
  if (u32(bytes, 8) !== 13 || typeAt(bytes, 12) !== 'IHDR') return undefined;
  const ihdr = 16;
  const out: PngChunks = {
    width: u32(bytes, ihdr),
    height: u32(bytes, ihdr + 4),
    bitDepth: bytes[ihdr + 8] as number,
    colourType: bytes[ihdr + 9] as number,
    interlaced: bytes[ihdr + 12] !== 0,
    idat: [],
    others: [],
    physUnits: [],
  };
  if (bytes[ihdr + 10] !== 0 || bytes[ihdr + 11] !== 0 || (bytes[ihdr + 12] as number) > 1) return undefined;
  let at = 8;
  let lastType = '';
  for (let chunks = 0; ; chunks++) {
    if (at + 12 > bytes.length || chunks === MAX_HEADER_PARTS) return undefined;
    const length = u32(bytes, at);
    const type = typeAt(bytes, at + 4);
    const end = at + 12 + length;
    if (length > 0x7fffffff || end > bytes.length) return undefined;
    if (checkCrc && crc32(bytes.subarray(at + 4, at + 8 + length)) >>> 0 !== u32(bytes, at + 8 + length)) return undefined;
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (type === 'IDAT') {
      // IDAT chunks must follow each other.
      if (out.idat.length > 0 && lastType !== 'IDAT') return undefined;
      out.idat.push(data);
    } else if (type === 'IEND') {
      return end === bytes.length && out.idat.length > 0 ? out : undefined;
    } else if (type !== 'IHDR' || at !== 8) {
      if (type === 'IHDR') return undefined;
      if (type === 'pHYs') out.physUnits.push(length === 9 ? (data[8] as number) : -1);
      out.others.push(type);
    }
    lastType = type;
    at = end;
  }
}

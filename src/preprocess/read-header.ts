import sharp from 'sharp';
import type { FormatEnum, Metadata } from 'sharp';
import { EeroError } from '../errors';
import { checkDeclaredSize, type SizeLimits } from './image-limits';
import { walkPng } from './png-chunks';
import { fromSharpError } from './sharp-errors';
import type { DecodableFormat } from './sniff-format';
import { DECODABLE_FORMATS, FORMAT_MIME_TYPES, isDecodableFormat, sniffFormat } from './sniff-format';

/** How strictly damaged pixel data is refused; sharp's `failOn` levels from most lenient up. */
export type FailOn = 'truncated' | 'error' | 'warning';

/** What the header says, read before any pixel is decoded. */
export interface ImageHeader {
  format: DecodableFormat;
  /** Width and height as displayed, i.e. after EXIF orientation. */
  width: number;
  height: number;
  /** EXIF orientation 1..8 (1 when absent); it is applied when decoding. */
  orientation: number;
  /** Frames or pages in the file; only the first is used. */
  pages: number;
  hasAlpha: boolean;
  /** True when the image holds one colour channel (gray, or gray with alpha). */
  isGray: boolean;
  /** CMYK without an embedded ICC profile: its colours are converted as image viewers do (cmyk.ts), not through a guessed profile. */
  cmykWithoutProfile: boolean;
}

/** sharp's name for each decodable format (AVIF is read by its HEIF loader). */
const SHARP_FORMAT: Readonly<Record<DecodableFormat, keyof FormatEnum>> = {
  jpeg: 'jpeg',
  png: 'png',
  webp: 'webp',
  gif: 'gif',
  tiff: 'tiff',
  avif: 'heif',
};

/** The formats this process can decode: the accepted list, less any this sharp build cannot read. */
export function decodableFormats(): DecodableFormat[] {
  return DECODABLE_FORMATS.filter((f) => sharp.format[SHARP_FORMAT[f]]?.input.buffer === true);
}

/** Refuses empty input, non-images and formats we do not decode, from the magic bytes alone. */
export function checkMagic(bytes: Uint8Array): DecodableFormat {
  if (bytes.length === 0) throw new EeroError('EMPTY_INPUT', 'The image is empty (zero bytes).');
  const format = sniffFormat(bytes);
  if (format === undefined) {
    throw new EeroError('NOT_AN_IMAGE', 'The input is not an image in any recognised format.');
  }
  if (!isDecodableFormat(format) || !decodableFormats().includes(format)) {
    const accepted = decodableFormats().join(', ');
    throw new EeroError(
      'UNSUPPORTED_FORMAT',
      `The ${format} format (${FORMAT_MIME_TYPES[format]}) is not supported; send one of: ${accepted}.`,
      { details: { format } },
    );
  }
  return format;
}

/**
 * Reads the header with libvips (no pixel decoding) and refuses a size over
 * the limits, so a decompression bomb is stopped before any memory is
 * committed to it. The caller has checked the magic bytes and, where the
 * header could be read without libvips, the same limits already.
 */
export async function readHeader(bytes: Uint8Array, limits: Required<SizeLimits>): Promise<ImageHeader> {
  const format = checkMagic(bytes);
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false, pages: 1 }).metadata();
  } catch (e) {
    throw fromSharpError(e, format, limits.limitInputPixels);
  }
  if (meta.format !== SHARP_FORMAT[format]) {
    throw new EeroError('CORRUPT_IMAGE', `The file starts like ${format} but reads as ${meta.format}.`);
  }
  const { width, height } = meta;
  if (!(width > 0 && height > 0)) {
    throw new EeroError('CORRUPT_IMAGE', `The ${format} image declares no valid size.`);
  }
  checkDeclaredSize({ width, height }, limits);
  const colourChannels = meta.channels - (meta.hasAlpha ? 1 : 0);
  return {
    format,
    width: meta.autoOrient.width,
    height: meta.autoOrient.height,
    orientation: meta.orientation ?? 1,
    pages: meta.pages ?? 1,
    hasAlpha: meta.hasAlpha,
    isGray: colourChannels === 1,
    cmykWithoutProfile: meta.space === 'cmyk' && !meta.hasProfile,
  };
}

/**
 * A PNG's header from its chunks, without libvips (one sharp call per image
 * instead of two): IHDR says gray or colour and alpha, a tRNS chunk adds
 * alpha. `undefined` when libvips must read it: an eXIf chunk (orientation),
 * an animated PNG, or a chunk structure that does not walk cleanly.
 */
export function readPngHeader(bytes: Uint8Array): ImageHeader | undefined {
  const png = walkPng(bytes, false);
  if (png === undefined || !(png.width > 0 && png.width <= 0x7fffffff && png.height > 0 && png.height <= 0x7fffffff)) return undefined;
  if (png.others.some((t) => t === 'eXIf' || t === 'acTL')) return undefined;
  const { colourType } = png;
  return {
    format: 'png',
    width: png.width,
    height: png.height,
    orientation: 1,
    pages: 1,
    hasAlpha: colourType === 4 || colourType === 6 || png.others.includes('tRNS'),
    isGray: colourType === 0 || colourType === 4,
    cmykWithoutProfile: false,
  };
}

import sharp from 'sharp';
import type { FormatEnum, Metadata } from 'sharp';
import { EeroError } from '../errors';
import { checkDeclaredSize, type SizeLimits } from './image-limits';
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

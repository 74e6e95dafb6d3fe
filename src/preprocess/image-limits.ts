import { DEFAULTS } from '../config';
import { EeroError } from '../errors';
import type { DeclaredSize } from './declared-size';
import { MAX_DIMENSION } from './png-size';

/**
 * Parts of an image's header read in JavaScript, at most: PNG chunks, JPEG
 * markers before the first scan, ISO-BMFF boxes side by side. Encoders write
 * a few dozen (libpng's 8 KiB IDAT chunks make about 2,600 in a 20 MiB PNG);
 * millions of empty ones cost the event loop seconds to walk (1.1 million
 * PNG chunks 0.4 to 0.8 s, 2.4 million AVIF boxes 2.5 s, 3 million JPEG
 * markers 50 ms and then 1.7 s of libvips).
 */
export const MAX_HEADER_PARTS = 4096;

/** A header with more than MAX_HEADER_PARTS parts (`what`: "markers before its frame header"): refused before anything reads it further. */
export function tooManyHeaderParts(format: string, what: string): EeroError {
  return new EeroError('CORRUPT_IMAGE', `The ${format} has more than ${MAX_HEADER_PARTS} ${what}; no encoder writes that.`, {
    details: { limit: MAX_HEADER_PARTS },
  });
}

/** What an image's declared size may be; checked before any decoding. */
export interface SizeLimits {
  /** Width x height. */
  limitInputPixels: number;
  /** Either side; default DEFAULTS.maxSide, never above libvips' own 10^8. */
  maxSide?: number;
  /** Longer side / shorter side; default DEFAULTS.maxAspectRatio. */
  maxAspectRatio?: number;
}

function positive(name: string, value: number, integer: boolean): number {
  if (!(value > 0) || (integer && !Number.isInteger(value))) {
    throw new RangeError(`${name} must be a positive ${integer ? 'integer' : 'number'}, not ${value}.`);
  }
  return value;
}

/** The limits with their defaults filled in; a RangeError for a value that is not a positive number. */
export function resolveLimits(l: SizeLimits): Required<SizeLimits> {
  return {
    limitInputPixels: positive('limitInputPixels', l.limitInputPixels, true),
    maxSide: Math.min(MAX_DIMENSION, positive('maxSide', l.maxSide ?? DEFAULTS.maxSide, true)),
    maxAspectRatio: positive('maxAspectRatio', l.maxAspectRatio ?? DEFAULTS.maxAspectRatio, false),
  };
}

/**
 * Refuses a declared size: more pixels than allowed or a side longer than
 * allowed (TOO_MANY_PIXELS, 413), or a shape further from square than allowed
 * (EXTREME_ASPECT_RATIO, 422). The area is checked first, so a message names
 * the pixel limit whenever that alone refuses the image.
 */
export function checkDeclaredSize(size: DeclaredSize, limits: Required<SizeLimits>): void {
  const { width, height } = size;
  const { limitInputPixels, maxSide, maxAspectRatio } = limits;
  const pixels = width * height;
  if (pixels > limitInputPixels) {
    throw new EeroError(
      'TOO_MANY_PIXELS',
      `The image is ${width}x${height} (${pixels} pixels), more than the allowed ${limitInputPixels}.`,
      {
        details: { width, height, limitInputPixels },
      },
    );
  }
  if (Math.max(width, height) > maxSide) {
    throw new EeroError('TOO_MANY_PIXELS', `The image is ${width}x${height}; no side may be longer than ${maxSide} pixels.`, {
      details: { width, height, limitInputPixels, maxSide },
    });
  }
  const ratio = Math.max(width, height) / Math.min(width, height);
  if (ratio > maxAspectRatio) {
    throw new EeroError(
      'EXTREME_ASPECT_RATIO',
      `The image is ${width}x${height}: its longer side is ${Number(ratio.toPrecision(4))} times its shorter, more than the allowed ${maxAspectRatio}.`,
      { details: { width, height, maxAspectRatio } },
    );
  }
}

import { EeroError } from '../errors';
import type { ImageFormat } from './sniff-format';

/** The first line of a libvips message, without its trailing newline noise. */
function firstLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return (message.split('\n')[0] ?? '').trim();
}

/**
 * Turns an error thrown by sharp while reading an image whose magic bytes
 * already named `format` into one of ours. By then the bytes are known to be
 * an image, so whatever libvips cannot read is a damaged or incomplete file.
 * `overran`: the pipeline failed after its time limit had passed.
 */
export function fromSharpError(e: unknown, format: ImageFormat, limitInputPixels: number, overran = false): EeroError {
  if (e instanceof EeroError) return e;
  const detail = firstLine(e);
  if (/exceeds pixel limit/i.test(detail)) {
    return new EeroError('TOO_MANY_PIXELS', `The image has more than the allowed ${limitInputPixels} pixels.`, {
      cause: e,
      details: { limitInputPixels },
    });
  }
  // libvips keeps one error buffer for every thread: with decodes running side by side, a killed pipeline may
  // report another's message or "Unknown error". A failure after the time limit had passed is taken as its kill.
  if (/^timeout/i.test(detail) || /killed for image/i.test(detail) || overran) {
    // Not a 503: the same image would take as long again. Too big to decode in time is a size refusal.
    return new EeroError(
      'TOO_MANY_PIXELS',
      `Decoding the ${format} image took longer than the decode time limit; it is too large to decode.`,
      {
        cause: e,
        details: { reason: 'decode-timeout' },
      },
    );
  }
  return new EeroError('CORRUPT_IMAGE', `The ${format} image is truncated or corrupt (${detail}).`, {
    cause: e,
    details: { format },
  });
}

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
 */
export function fromSharpError(e: unknown, format: ImageFormat, limitInputPixels: number): EeroError {
  if (e instanceof EeroError) return e;
  const detail = firstLine(e);
  if (/exceeds pixel limit/i.test(detail)) {
    return new EeroError('TOO_MANY_PIXELS', `The image has more than the allowed ${limitInputPixels} pixels.`, {
      cause: e,
      details: { limitInputPixels },
    });
  }
  if (/^timeout/i.test(detail)) {
    // Not a 503: the same image would take as long again. Too big to decode in time is a size refusal.
    return new EeroError(
      'TOO_MANY_PIXELS',
      `Decoding the ${format} image took longer than the decode time limit (${detail}); it is too large to decode.`,
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

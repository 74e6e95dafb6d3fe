import { EeroError } from '../errors';
import { sniffFormat } from '../preprocess';

/** Content types that may carry image bytes; anything else is refused unless the bytes are an image anyway. */
function mayCarryImage(mimeType: string | undefined): boolean {
  if (mimeType === undefined || mimeType === '') return true;
  const base = mimeType.split(';')[0]?.trim().toLowerCase() ?? '';
  return base === '' || base.startsWith('image/') || base === 'application/octet-stream';
}

/**
 * What we decide before decoding. The bytes are sniffed, the declared type is
 * not trusted: image bytes are accepted under any Content-Type; bytes that
 * are no image are NOT_AN_IMAGE (400) when sent as image/* or
 * application/octet-stream (or untyped), and UNSUPPORTED_MEDIA_TYPE (415) when
 * declared as something else (text/plain, application/json...). Recognised
 * but refused formats (BMP, SVG...) are left to the decoder: UNSUPPORTED_FORMAT (415).
 */
export function screenImage(bytes: Uint8Array, mimeType: string | undefined): EeroError | undefined {
  if (bytes.length === 0) return new EeroError('EMPTY_INPUT', 'the image is empty (0 bytes)');
  if (sniffFormat(bytes) !== undefined || mayCarryImage(mimeType)) return undefined;
  return new EeroError(
    'UNSUPPORTED_MEDIA_TYPE',
    `Content-Type ${mimeType ?? ''} is not an image type and the bytes are not an image; send image bytes (image/*, application/octet-stream) or multipart/form-data`,
    { details: { contentType: mimeType } },
  );
}

/** A PNG's size from its IHDR, read without libvips. */

/**
 * The longest side libvips opens (its VIPS_MAX_COORD default, 10^8): a
 * longer one fails as "Input buffer has corrupt header". `maxSide` is kept
 * at or below it, so such a side is refused as too long before libvips.
 */
export const MAX_DIMENSION = 100_000_000;

/** Width and height from the IHDR chunk that must follow the signature, or undefined when there is none. */
export function declaredPngSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  // Signature (8), IHDR length (4) = 13, "IHDR" (4), then width and height (4 bytes each, big-endian).
  if (bytes.length < 24) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(8) !== 13 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return undefined;
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  // The PNG specification caps each side at 2^31 - 1; zero is invalid.
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) return undefined;
  return { width, height };
}

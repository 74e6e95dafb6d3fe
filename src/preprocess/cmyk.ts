/**
 * CMYK without an ICC profile, converted as image viewers show it. libvips
 * would convert it through a built-in press profile (US Web Coated SWOP),
 * which shifts every tone (a white-on-black Fashion-MNIST image saved so
 * comes back with its black at ~23 and its whites ~20 darker), and a model
 * trained on RGB images misreads it. Chrome, Firefox and Pillow
 * instead take the channels as plain ink amounts: R = (255 - C)(255 - K) / 255,
 * and so on for G and B. Adobe's inverted storage is already undone by the
 * JPEG loader (libvips, like Pillow and the browsers, reads every CMYK JPEG
 * as inverted), so the channels here are ink amounts, 0 = no ink.
 */

/** Pillow's `cmyk2rgb` in integer arithmetic: nk - round(c * nk / 255) with nk = 255 - k. */
function inkToRgb(ink: number, nk: number): number {
  const t = ink * nk + 128;
  return nk - ((t + (t >> 8)) >> 8);
}

/**
 * Interleaved 8-bit CMYK (4 channels) or CMYK + alpha (5) to RGB (3) or
 * RGBA (4), the alpha copied as it is.
 */
export function cmykToRgb(cmyk: Uint8Array, channels: 4 | 5): { pixels: Buffer; channels: 3 | 4 } {
  const out: 3 | 4 = channels === 5 ? 4 : 3;
  const n = Math.floor(cmyk.length / channels);
  const pixels = Buffer.alloc(n * out);
  for (let i = 0, p = 0, q = 0; i < n; i++, p += channels, q += out) {
    const nk = 255 - (cmyk[p + 3] as number);
    pixels[q] = inkToRgb(cmyk[p] as number, nk);
    pixels[q + 1] = inkToRgb(cmyk[p + 1] as number, nk);
    pixels[q + 2] = inkToRgb(cmyk[p + 2] as number, nk);
    if (out === 4) pixels[q + 3] = cmyk[p + 4] as number;
  }
  return { pixels, channels: out };
}

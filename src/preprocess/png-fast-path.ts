/**
 * The PNG fast path: a small, well-formed PNG already at the model's resize
 * size is decoded here in plain JavaScript (chunks and CRCs checked, zlib
 * inflate bounded to the exact size, rows unfiltered) instead of through a
 * libvips pipeline, whose fixed cost per image (about 1.2 ms of CPU) is some
 * fifty times that of decoding a 28x28 image. It produces the very pixels
 * libvips would (the file's own 8-bit gray or RGB samples, no resize, padded
 * with the background as the sharp path pads) and hands them to the same
 * normaliser, so the tensor is bit for bit the same. It only accepts or
 * declines: any file it does not take whole (another format, a size that
 * needs a resize, 16-bit, palette, alpha, interlace, a colour profile or
 * gamma, EXIF, a bad CRC, truncated or extra data) goes to sharp, which
 * decides how it is refused.
 */
import { inflateSync } from 'node:zlib';
import type { InputPlan } from './input-plan';
import { writeNormalised } from './normalise';
import { walkPng, type PngChunks } from './png-chunks';
import type { ImageHeader } from './read-header';

/** Chunks besides IHDR, IDAT and IEND that leave libvips' pixels as they are: pHYs (resolution) with a valid unit. */
function onlyPlainChunks(png: PngChunks): boolean {
  return png.others.every((t) => t === 'pHYs') && png.physUnits.every((u) => u === 0 || u === 1);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Undoes the PNG row filters of `raw` (each row: a filter byte, then `stride` bytes) into `out`; false for an unknown filter. */
function unfilter(raw: Uint8Array, out: Uint8Array, stride: number, bpp: number, rows: number): boolean {
  for (let y = 0; y < rows; y++) {
    const filter = raw[y * (stride + 1)] as number;
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    for (let x = 0; x < stride; x++) {
      const v = raw[src + x] as number;
      const a = x >= bpp ? (out[row + x - bpp] as number) : 0;
      const b = y > 0 ? (out[prev + x] as number) : 0;
      const c = x >= bpp && y > 0 ? (out[prev + x - bpp] as number) : 0;
      let p: number;
      if (filter === 0) p = 0;
      else if (filter === 1) p = a;
      else if (filter === 2) p = b;
      else if (filter === 3) p = (a + b) >> 1;
      else if (filter === 4) p = paeth(a, b, c);
      else return false;
      out[row + x] = (v + p) & 0xff;
    }
  }
  return true;
}

/** The pixels the sharp path would give: the image in its place, the padding in the background (gray sources: its 601 luma). */
function padded(pixels: Uint8Array, channels: 1 | 3, plan: InputPlan): Uint8Array {
  const [top, , , left] = plan.spec.pad;
  const { width: w, height: h } = plan.spec.resize;
  if (plan.width === w && plan.height === h) return pixels;
  const out = new Uint8Array(plan.width * plan.height * channels);
  const fill = channels === 1 ? [plan.backgroundGray] : plan.spec.background;
  for (let i = 0; i < plan.width * plan.height; i++) for (let c = 0; c < channels; c++) out[i * channels + c] = fill[c] as number;
  for (let y = 0; y < h; y++)
    out.set(pixels.subarray(y * w * channels, (y + 1) * w * channels), ((top + y) * plan.width + left) * channels);
  return out;
}

/** With `info`, Node returns the engine too: its bytesWritten is the input the stream used up. */
interface InflateInfo {
  buffer: Buffer;
  engine: { bytesWritten: number };
}

/** The IDAT stream inflated, when it holds exactly `expected` bytes and nothing after its end (checksum checked by zlib). */
function inflated(idat: Uint8Array[], expected: number): Buffer | undefined {
  const data = idat.length === 1 ? (idat[0] as Uint8Array) : Buffer.concat(idat);
  try {
    // One byte more than a complete image may hold: a longer stream stops there and is not taken.
    const { buffer, engine } = inflateSync(data, { maxOutputLength: expected + 1, info: true }) as unknown as InflateInfo;
    return buffer.length === expected && engine.bytesWritten === data.length ? buffer : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Decodes `bytes` into `target[offset ..]` when the fast path can take the
 * file whole, and returns its header facts; `undefined` (nothing written)
 * when it cannot.
 */
export function tryPngFastPath(bytes: Uint8Array, plan: InputPlan, target: Float32Array, offset: number): ImageHeader | undefined {
  const png = walkPng(bytes, true);
  if (png === undefined || png.bitDepth !== 8 || png.interlaced || !onlyPlainChunks(png)) return undefined;
  if (png.colourType !== 0 && png.colourType !== 2) return undefined;
  const { width, height } = plan.spec.resize;
  if (png.width !== width || png.height !== height) return undefined;
  const channels: 1 | 3 = png.colourType === 0 ? 1 : 3;
  const stride = width * channels;
  const expected = (stride + 1) * height;
  const raw = inflated(png.idat, expected);
  if (raw === undefined) return undefined;
  const pixels = new Uint8Array(stride * height);
  if (!unfilter(raw, pixels, stride, channels, height)) return undefined;
  writeNormalised(padded(pixels, channels, plan), channels, plan, target, offset);
  return {
    format: 'png',
    width,
    height,
    orientation: 1,
    pages: 1,
    hasAlpha: false,
    isGray: channels === 1,
    cmykWithoutProfile: false,
  };
}

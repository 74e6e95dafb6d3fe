/** Test images made with sharp from raw pixels, and specs to feed them through. */
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { Sharp } from 'sharp';
import type { InputSpec } from '../../src/config';

export const LIMIT = { limitInputPixels: 50_000_000 };

/** An identity-normalising spec: tensor = pixel / 255, no padding. */
export function plainSpec(overrides: Partial<InputSpec> = {}): InputSpec {
  const channels = overrides.channels ?? 3;
  const width = overrides.width ?? 16;
  const height = overrides.height ?? 16;
  return {
    channels,
    colorSpace: channels === 1 ? 'gray' : 'srgb',
    height,
    width,
    resize: { width, height, fit: 'fill' },
    pad: [0, 0, 0, 0],
    background: [0, 0, 0],
    scale: 255,
    mean: channels === 1 ? [0] : [0, 0, 0],
    std: channels === 1 ? [1] : [1, 1, 1],
    ...overrides,
  };
}

export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/** A raw image whose pixel (x, y, c) is `f(x, y, c)`. */
export function rawImage(width: number, height: number, channels: 1 | 2 | 3 | 4, f: (x: number, y: number, c: number) => number): RawImage {
  const data = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) data[(y * width + x) * channels + c] = f(x, y, c);
    }
  }
  return { data, width, height, channels };
}

export function fromRaw(img: RawImage): Sharp {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels } });
}

/** A deterministic pseudo-random byte sequence (xorshift32). */
export function noiseBytes(n: number, seed = 12345): Buffer {
  const out = Buffer.alloc(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s & 0xff;
  }
  return out;
}

/** Channel `c` of pixel (x, y) of a CHW tensor with width `w` and height `h`. */
export function at(data: Float32Array, w: number, h: number, c: number, x: number, y: number): number {
  const v = data[c * w * h + y * w + x];
  if (v === undefined) throw new RangeError(`No element at c=${c} x=${x} y=${y}.`);
  return v;
}

/** The tensor as 8-bit values again (for pixel/255 specs). */
export function toBytes(data: Float32Array): number[] {
  return Array.from(data, (v) => Math.round(v * 255));
}

/** CHW bytes of an interleaved raw image, to compare with `toBytes` output. */
export function chw(img: RawImage, channels = img.channels): number[] {
  const out: number[] = [];
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < img.width * img.height; i++) out.push(img.data[i * img.channels + c] as number);
  }
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A valid PNG whose IHDR is rewritten to declare `width` x `height` (its data stays tiny). */
export async function pngDeclaring(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(
    await fromRaw(rawImage(4, 4, 1, () => 0))
      .toColourspace('b-w')
      .png()
      .toBuffer(),
  );
  // Signature (8) + IHDR length (4) + "IHDR" (4): width at 16, height at 20, CRC of type+data at 29.
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}

/**
 * A valid, non-interlaced 8-bit PNG of one flat value (gray, or RGB with
 * `colourType` 2): a decompression bomb, e.g. 1 x 40,000,000 pixels in 78 KB,
 * or 6000 x 6000 RGB in about 100 KB.
 */
export function flatPng(width: number, height: number, colourType: 0 | 2 = 0, value = 0): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = colourType;
  const stride = width * (colourType === 2 ? 3 : 1) + 1;
  const raw = Buffer.alloc(stride * height, value);
  for (let y = 0; y < height; y++) raw[y * stride] = 0; // filter type None
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

export interface PngParts {
  width: number;
  height: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGBA (8-bit samples). */
  colourType: 0 | 2 | 3 | 4 | 6;
  /** Row-major samples, `channels` per pixel (one palette index for type 3). */
  samples: Uint8Array;
  /** The filter type of each row (0..4), cycled; default all 0. */
  filters?: number[];
  /** Chunks written after IHDR (before IDAT), as [type, data]. */
  before?: Array<[string, Buffer]>;
  /** The IDAT stream split into this many chunks; default 1. */
  idatChunks?: number;
  /** Bytes appended after IEND. */
  trailing?: Buffer;
}

const SAMPLES_PER_PIXEL = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as const;

function paethPredictor(a: number, b: number, c: number): number {
  const p = a + b - c;
  const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** A PNG written byte by byte (any row filter, extra chunks, split IDAT), to test a decoder against libvips. */
export function encodePng(p: PngParts): Buffer {
  const bpp = SAMPLES_PER_PIXEL[p.colourType];
  const stride = p.width * bpp;
  const raw = Buffer.alloc((stride + 1) * p.height);
  const filters = p.filters ?? [0];
  for (let y = 0; y < p.height; y++) {
    const f = filters[y % filters.length] as number;
    raw[y * (stride + 1)] = f;
    for (let x = 0; x < stride; x++) {
      const at = y * stride + x;
      const a = x >= bpp ? (p.samples[at - bpp] as number) : 0;
      const b = y > 0 ? (p.samples[at - stride] as number) : 0;
      const c = x >= bpp && y > 0 ? (p.samples[at - stride - bpp] as number) : 0;
      const pred = [0, a, b, (a + b) >> 1, paethPredictor(a, b, c)][f] as number;
      raw[y * (stride + 1) + 1 + x] = ((p.samples[at] as number) - pred) & 0xff;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(p.width, 0);
  ihdr.writeUInt32BE(p.height, 4);
  ihdr[8] = 8;
  ihdr[9] = p.colourType;
  const stream = deflateSync(raw);
  const parts = p.idatChunks ?? 1;
  const size = Math.ceil(stream.length / parts);
  const idat = Array.from({ length: parts }, (_, i) => pngChunk('IDAT', stream.subarray(i * size, (i + 1) * size)));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    ...(p.before ?? []).map(([type, data]) => pngChunk(type, data)),
    ...idat,
    pngChunk('IEND', Buffer.alloc(0)),
    p.trailing ?? Buffer.alloc(0),
  ]);
}

import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { DEFAULTS } from '../../src/config';
import { createDecodePool, preprocessImage, type DecodePool } from '../../src/preprocess';
import { flatPng, fromRaw, pngDeclaring, plainSpec, rawImage, toBytes } from './images';

const gray28 = plainSpec({ channels: 1, width: 28, height: 28 });

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body) >>> 0, 8 + data.length);
  return out;
}

/** A valid 8-bit gray PNG, one row, its left half white and the rest black: a few tens of KB. */
function halfWhiteRow(width: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(1, 4);
  ihdr[8] = 8; // bit depth; colour type 0 (gray), no interlace
  const raw = Buffer.alloc(width + 1); // filter byte 0, then the pixels
  raw.fill(255, 1, 1 + width / 2);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

const limit = { limitInputPixels: DEFAULTS.inputPixels };
/** The limits an operator who accepts extreme shapes would set: only the pixel limit and libvips' own 10^8 side remain. */
const extremeShapes = { ...limit, maxSide: 100_000_000, maxAspectRatio: 1e9 };

/** A pool that records every job it is given, to tell a refusal from the header apart from one after decoding. */
function watchedPool(): { pool: DecodePool; jobs: string[] } {
  const pool = createDecodePool({ slots: 1 });
  const jobs: string[] = [];
  const run = pool.run.bind(pool);
  pool.run = (job, task) => {
    jobs.push(job.client);
    return run(job, task);
  };
  return { pool, jobs };
}

describe('sides and shapes refused from the header, before any decoding', () => {
  it('refuses a 1 x 40,000,000 PNG (78 KB, within the pixel limit) by its side, without giving it to the decode pool', async () => {
    const bomb = flatPng(1, 40_000_000);
    expect(bomb.length).toBeLessThan(100_000);
    const { pool, jobs } = watchedPool();
    await expect(preprocessImage(bomb, gray28, { ...limit, pool })).rejects.toMatchObject({
      code: 'TOO_MANY_PIXELS',
      message: `The image is 1x40000000; no side may be longer than ${DEFAULTS.maxSide} pixels.`,
      details: { width: 1, height: 40_000_000, maxSide: DEFAULTS.maxSide },
    });
    expect(jobs).toEqual([]);
    // The image itself is valid: a good image that needs libvips (a resize) goes through the same pool.
    await expect(preprocessImage(flatPng(40, 40), gray28, { ...limit, pool })).resolves.toBeDefined();
    expect(jobs).toHaveLength(1);
  });

  // A 300x12 image in every accepted format, cut in half: decoding it would fail (CORRUPT_IMAGE), so a
  // size refusal proves the header alone was read. (libtiff writes its directory after the pixels: TIFF whole.)
  const wide = rawImage(300, 12, 3, (x, y, c) => (x * 5 + y * 11 + c * 50) & 0xff);
  it.each([
    ['PNG', () => fromRaw(wide).png().toBuffer(), true],
    ['JPEG', () => fromRaw(wide).jpeg({ progressive: true }).toBuffer(), true],
    ['WebP', () => fromRaw(wide).webp().toBuffer(), true],
    ['GIF', () => fromRaw(wide).gif().toBuffer(), true],
    ['TIFF', () => fromRaw(wide).tiff().toBuffer(), false],
    ['AVIF', () => fromRaw(wide).avif().toBuffer(), true],
  ])('%s: a side over maxSide is TOO_MANY_PIXELS and a shape over maxAspectRatio EXTREME_ASPECT_RATIO', async (_name, encode, cut) => {
    const whole = await encode();
    const bytes = cut ? whole.subarray(0, whole.length >> 1) : whole;
    const { pool, jobs } = watchedPool();
    await expect(preprocessImage(bytes, gray28, { ...limit, maxSide: 299, pool })).rejects.toMatchObject({
      code: 'TOO_MANY_PIXELS',
      details: { width: 300, height: 12, maxSide: 299 },
    });
    await expect(preprocessImage(bytes, gray28, { ...limit, maxAspectRatio: 24.9, pool })).rejects.toMatchObject({
      code: 'EXTREME_ASPECT_RATIO',
      message: 'The image is 300x12: its longer side is 25 times its shorter, more than the allowed 24.9.',
      details: { width: 300, height: 12, maxAspectRatio: 24.9 },
    });
    expect(jobs).toEqual([]);
    // Within the limits (25:1 exactly, the side exactly), the whole file decodes.
    await expect(preprocessImage(whole, gray28, { ...limit, maxSide: 300, maxAspectRatio: 25, pool })).resolves.toBeDefined();
    expect(jobs).toHaveLength(1);
  });

  it('refuses limits that are not positive numbers', async () => {
    const png = flatPng(28, 28);
    await expect(preprocessImage(png, gray28, { ...limit, maxSide: 0 })).rejects.toThrow(RangeError);
    await expect(preprocessImage(png, gray28, { ...limit, maxAspectRatio: -1 })).rejects.toThrow(RangeError);
  });
});

describe('the decode time limit', () => {
  it('stops a decode that overruns it with TOO_MANY_PIXELS, and the libvips thread is free again', async () => {
    // Allowed by its shape here, a 1 x 40,000,000 PNG takes libvips ~10 s or more (about a microsecond a row).
    const bomb = flatPng(1, 40_000_000);
    await expect(preprocessImage(bomb, gray28, { ...extremeShapes, timeoutSeconds: 1 })).rejects.toMatchObject({
      code: 'TOO_MANY_PIXELS',
      details: { reason: 'decode-timeout' },
    });
    // The pipeline was killed, not left running on its thread.
    expect(sharp.counters()).toEqual({ queue: 0, process: 0 });
  });
});

describe('images of extreme aspect ratio, where the limits allow them', () => {
  // libvips' reduceh refused the shrink of 40000000 -> 28 ("parameter hshrink not set"), reported as CORRUPT_IMAGE.
  it('decodes a valid 40000000x1 PNG (exactly the default pixel limit) to its pixels', async () => {
    const width = 40_000_000;
    expect(width).toBe(DEFAULTS.inputPixels);
    const png = halfWhiteRow(width);
    expect(png.length).toBeLessThan(100_000);
    await expect(preprocessImage(png, gray28, limit)).rejects.toMatchObject({ code: 'TOO_MANY_PIXELS' });
    const px = toBytes((await preprocessImage(png, gray28, extremeShapes)).data);
    // Fill to 28x28: the white half becomes the first 14 columns, the black half the rest (the linear kernel blends 13..15).
    for (let y = 0; y < 28; y++) {
      const row = px.slice(y * 28, (y + 1) * 28);
      expect(row.slice(0, 13).every((v) => v >= 250)).toBe(true);
      expect(row.slice(16).every((v) => v <= 5)).toBe(true);
      expect(Math.abs(row[13]! + row[14]! - 255 - 128)).toBeLessThanOrEqual(40); // the edge sits between columns 13 and 14
    }
  });

  it('refuses a side longer than libvips opens (10^8) as too many pixels, never as a corrupt file', async () => {
    const wide = await pngDeclaring(100_000_001, 1);
    await expect(preprocessImage(wide, gray28, extremeShapes)).rejects.toMatchObject({
      code: 'TOO_MANY_PIXELS',
      message: expect.stringContaining(`more than the allowed ${DEFAULTS.inputPixels}`),
    });
    // Within a raised pixel limit, the message names the longest side allowed: libvips' 10^8 whatever maxSide asks.
    await expect(
      preprocessImage(wide, gray28, { ...extremeShapes, limitInputPixels: 200_000_000, maxSide: 150_000_000 }),
    ).rejects.toMatchObject({
      code: 'TOO_MANY_PIXELS',
      message: expect.stringContaining('no side may be longer than 100000000 pixels'),
      details: expect.objectContaining({ width: 100_000_001, height: 1, maxSide: 100_000_000 }),
    });
  });
});

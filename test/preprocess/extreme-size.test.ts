import { crc32, deflateSync } from 'node:zlib';
import { DEFAULTS } from '../../src/config';
import { preprocessImage } from '../../src/preprocess';
import { pngDeclaring, plainSpec, toBytes } from './images';

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

describe('images of extreme aspect ratio within the pixel limit', () => {
  // libvips' reduceh refused the shrink of 40000000 -> 28 ("parameter hshrink not set"), reported as CORRUPT_IMAGE.
  // (A 1x40000000 PNG takes the same path, but libvips needs ~1 us per row to read it: too slow for this suite.)
  it('decodes a valid 40000000x1 PNG (exactly the default pixel limit) to its pixels', async () => {
    const width = 40_000_000;
    expect(width).toBe(DEFAULTS.inputPixels);
    const png = halfWhiteRow(width);
    expect(png.length).toBeLessThan(100_000);
    const px = toBytes((await preprocessImage(png, gray28, limit)).data);
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
    await expect(preprocessImage(wide, gray28, limit)).rejects.toMatchObject({
      code: 'TOO_MANY_PIXELS',
      message: expect.stringContaining(`more than the allowed ${DEFAULTS.inputPixels}`),
    });
    // Within a raised pixel limit, the message names the longest side allowed.
    await expect(preprocessImage(wide, gray28, { limitInputPixels: 200_000_000 })).rejects.toMatchObject({
      code: 'TOO_MANY_PIXELS',
      message: expect.stringContaining('no side may be longer than 100000000 pixels'),
      details: expect.objectContaining({ width: 100_000_001, height: 1, maxDimension: 100_000_000 }),
    });
  });
});

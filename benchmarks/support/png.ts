import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

// A minimal gray PNG encoder (zlib + CRC), so benchmark data needs no image library
// outside src/preprocess (sharp's one home).
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of buf) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

export function grayPng(pixels: Uint8Array, width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // gray
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** A flat PNG of zeros, 8-bit gray (colour type 0) or RGB (2): a decompression bomb of `width x height` pixels in a few KB. */
export function zeroPng(width: number, height: number, colourType: 0 | 2): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = colourType;
  // Every row's filter byte and pixels are 0.
  const raw = Buffer.alloc((width * (colourType === 2 ? 3 : 1) + 1) * height);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** A 28 x 28 gray PNG whose image data is followed by `empties` empty IDAT chunks: valid, and 12 bytes a chunk. */
export function chunkFloodPng(empties: number): Buffer {
  const png = grayPng(new Uint8Array(28 * 28), 28, 28);
  const iend = png.length - 12;
  return Buffer.concat([png.subarray(0, iend), Buffer.alloc(12 * empties, chunk('IDAT', new Uint8Array(0))), png.subarray(iend)]);
}

export function encodeGrayPng(pixels: Uint8Array, width: number, height: number, file: string): Promise<void> {
  writeFileSync(file, grayPng(pixels, width, height));
  return Promise.resolve();
}

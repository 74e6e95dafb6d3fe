/**
 * The JPEG header read in JavaScript says what libvips' metadata says (size as displayed, orientation,
 * gray, CMYK without a profile) for every JPEG it reads, and declines the rest.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sharp } from 'sharp';
import { readJpegHeader } from '../../src/preprocess/jpeg-header';
import { readHeader, type ImageHeader } from '../../src/preprocess/read-header';
import { fromRaw, LIMIT, rawImage } from './images';

const LIMITS = { ...LIMIT, maxSide: 100_000, maxAspectRatio: 1_000 };
const FIXTURES = join(__dirname, '..', 'fixtures', 'cmyk');

/** 30 x 20: wide, so a turned orientation shows in the width and height. */
const colour = (): Sharp => fromRaw(rawImage(30, 20, 3, (x, y, c) => (x * 7 + y * 13 + c * 50) % 256));

const variants: Array<[string, () => Promise<Buffer>]> = [
  ['rgb, baseline', () => colour().jpeg().toBuffer()],
  ['rgb, progressive, 4:4:4', () => colour().jpeg({ progressive: true, chromaSubsampling: '4:4:4' }).toBuffer()],
  ['gray (one component)', () => colour().toColourspace('b-w').jpeg().toBuffer()],
  ['rgb with an sRGB profile', () => colour().withIccProfile('srgb').jpeg().toBuffer()],
  ['cmyk without a profile', () => colour().toColourspace('cmyk').jpeg().toBuffer()],
  ['cmyk with a profile', () => colour().toColourspace('cmyk').withIccProfile('cmyk').jpeg().toBuffer()],
  [
    'exif without orientation',
    () =>
      colour()
        .withExif({ IFD0: { Copyright: 'EERO' } })
        .jpeg()
        .toBuffer(),
  ],
  ...[1, 2, 3, 4, 5, 6, 7, 8].map((o): [string, () => Promise<Buffer>] => [
    `orientation ${o}`,
    () => colour().withMetadata({ orientation: o }).jpeg().toBuffer(),
  ]),
  ['a CMYK fixture without a profile', () => Promise.resolve(readFileSync(join(FIXTURES, 'fmnist-00-cmyk.jpg')))],
  ['a CMYK fixture of inks', () => Promise.resolve(readFileSync(join(FIXTURES, 'inks-cmyk.jpg')))],
];

describe('readJpegHeader', () => {
  it.each(variants)('agrees with libvips on a JPEG: %s', async (_name, make) => {
    const bytes = await make();
    const ours = readJpegHeader(bytes);
    expect(ours).toBeDefined();
    expect(ours).toEqual(await readHeader(bytes, LIMITS));
  });

  it('reads the orientation that turns the image: 30 x 20 stored, 20 x 30 shown at orientation 6', async () => {
    const bytes = await colour().withMetadata({ orientation: 6 }).jpeg().toBuffer();
    expect(readJpegHeader(bytes)).toMatchObject({ width: 20, height: 30, orientation: 6 });
  });

  it('declines, or agrees with libvips, on every truncation of every variant', async () => {
    let read = 0;
    for (const [, make] of variants) {
      const bytes = await make();
      for (let cut = 0; cut < bytes.length; cut += Math.max(1, Math.floor(bytes.length / 40))) {
        const part = bytes.subarray(0, cut);
        const ours = readJpegHeader(part);
        if (ours === undefined) continue;
        read++;
        const theirs: ImageHeader = await readHeader(part, LIMITS);
        expect(ours).toEqual(theirs);
      }
    }
    // Cuts inside the scan data keep the whole header: some must have been read.
    expect(read).toBeGreaterThan(0);
  });

  it('declines what is not a plain JPEG header', () => {
    expect(readJpegHeader(Buffer.from([0x89, 0x50, 0x4e, 0x47]))).toBeUndefined();
    // SOI then the end of the image: no frame header.
    expect(readJpegHeader(Buffer.from([0xff, 0xd8, 0xff, 0xd9, 0, 0]))).toBeUndefined();
    // A segment whose length runs past the end.
    expect(readJpegHeader(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0xff, 0xff, 0, 0]))).toBeUndefined();
  });
});

/** The size each accepted format declares, read without libvips, equals what libvips reads; damaged headers never throw. */
import fc from 'fast-check';
import sharp from 'sharp';
import { isEeroError } from '../../src/errors';
import { declaredSize } from '../../src/preprocess/declared-size';
import { readJpegHeader } from '../../src/preprocess/jpeg-header';
import { sniffFormat, type DecodableFormat } from '../../src/preprocess/sniff-format';
import { fromRaw, noiseBytes, rawImage } from './images';

const W = 37;
const H = 23;
const rgb = rawImage(W, H, 3, (x, y, c) => noiseBytes(W * H * 3, 5)[(y * W + x) * 3 + c] as number);
const rgba = rawImage(W, H, 4, (x, y, c) => (c === 3 ? 128 : (x * 7 + y * 3 + c) & 0xff));

const encodings: Array<[string, () => Promise<Buffer>]> = [
  ['PNG', () => fromRaw(rgb).png().toBuffer()],
  ['JPEG baseline', () => fromRaw(rgb).jpeg().toBuffer()],
  ['JPEG progressive', () => fromRaw(rgb).jpeg({ progressive: true }).toBuffer()],
  ['JPEG with EXIF and ICC before the frame', () => fromRaw(rgb).withMetadata({ orientation: 6 }).jpeg().toBuffer()],
  ['WebP lossy (VP8)', () => fromRaw(rgb).webp().toBuffer()],
  ['WebP lossless (VP8L)', () => fromRaw(rgb).webp({ lossless: true }).toBuffer()],
  ['WebP with alpha (VP8X)', () => fromRaw(rgba).webp().toBuffer()],
  ['GIF', () => fromRaw(rgb).gif().toBuffer()],
  ['TIFF', () => fromRaw(rgb).tiff().toBuffer()],
  ['BigTIFF', () => fromRaw(rgb).tiff({ bigtiff: true }).toBuffer()],
  ['AVIF', () => fromRaw(rgb).avif().toBuffer()],
];

/** The code of the error `f` throws; undefined when it returns. */
function codeThrown(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isEeroError(e) ? e.code : String(e);
  }
  return undefined;
}

describe('declared sizes read without libvips', () => {
  let samples: Array<{ name: string; bytes: Buffer; format: DecodableFormat }>;
  beforeAll(async () => {
    samples = await Promise.all(
      encodings.map(async ([name, encode]) => {
        const bytes = await encode();
        return { name, bytes, format: sniffFormat(bytes) as DecodableFormat };
      }),
    );
  });

  it.each(encodings.map(([name]) => name))('%s: the size libvips reads', async (name) => {
    const s = samples.find((x) => x.name === name);
    if (s === undefined) throw new Error(`no sample ${name}`);
    const meta = await sharp(s.bytes).metadata();
    expect({ width: meta.width, height: meta.height }).toEqual({ width: W, height: H });
    expect(declaredSize(s.bytes, s.format)).toEqual({ width: W, height: H });
  });

  it('a JPEG with more markers before its frame than any encoder writes is CORRUPT_IMAGE from its header; 4,000 are still read', () => {
    const jpeg = samples.find((x) => x.name === 'JPEG baseline')?.bytes as Buffer;
    const padded = (segments: number): Buffer =>
      Buffer.concat([jpeg.subarray(0, 2), Buffer.alloc(4 * segments, Buffer.from([0xff, 0xe2, 0x00, 0x02])), jpeg.subarray(2)]);
    expect(declaredSize(padded(4000), 'jpeg')).toEqual({ width: W, height: H });
    expect(readJpegHeader(padded(4000))).toMatchObject({ width: W, height: H });
    expect(codeThrown(() => declaredSize(padded(100_000), 'jpeg'))).toBe('CORRUPT_IMAGE');
    expect(readJpegHeader(padded(100_000))).toBeUndefined();
  });

  it('an AVIF with thousands of boxes side by side is CORRUPT_IMAGE from its header; 4,000 are still read', () => {
    const avif = samples.find((x) => x.name === 'AVIF')?.bytes as Buffer;
    const ftyp = avif.readUInt32BE(0);
    const withFree = (boxes: number): Buffer =>
      Buffer.concat([
        avif.subarray(0, ftyp),
        Buffer.alloc(8 * boxes, Buffer.from([0, 0, 0, 8, 0x66, 0x72, 0x65, 0x65])),
        avif.subarray(ftyp),
      ]);
    expect(declaredSize(withFree(4000), 'avif')).toEqual({ width: W, height: H });
    expect(codeThrown(() => declaredSize(withFree(5000), 'avif'))).toBe('CORRUPT_IMAGE');
  });

  it('returns a size or undefined, never throws, for every header cut short or with bytes changed (fast-check)', () => {
    const damage = fc.record({
      sample: fc.nat(),
      cut: fc.option(fc.nat()),
      flips: fc.array(fc.record({ at: fc.nat({ max: 400 }), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }),
    });
    fc.assert(
      fc.property(damage, (d) => {
        const s = samples[d.sample % samples.length] as (typeof samples)[number];
        const bytes = Buffer.from(s.bytes.subarray(0, d.cut === null ? undefined : d.cut % (s.bytes.length + 1)));
        for (const f of d.flips) if (f.at < bytes.length) bytes[f.at] = f.value;
        const size = declaredSize(bytes, s.format);
        if (size !== undefined) {
          expect(Number.isSafeInteger(size.width) && size.width > 0).toBe(true);
          expect(Number.isSafeInteger(size.height) && size.height > 0).toBe(true);
        }
      }),
      { seed: 20250602, numRuns: 2000 },
    );
  });
});

import sharp from 'sharp';
import type { Sharp } from 'sharp';
import { decodableFormats, preprocessImage } from '../../src/preprocess';
import { at, chw, fromRaw, LIMIT, plainSpec, rawImage, toBytes } from './images';

/** Four flat colours in 8x8 blocks: survives every codec, lossy ones nearly. */
const blocks = rawImage(
  16,
  16,
  3,
  (x, y, c) =>
    [
      [200, 40, 90],
      [20, 160, 250],
      [255, 255, 0],
      [10, 10, 10],
    ][(y >> 3) * 2 + (x >> 3)]![c]!,
);
const spec = plainSpec();

function maxDiff(a: number[], b: number[]): number {
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);
}

describe('decoding each accepted format', () => {
  it('lists the formats this sharp build decodes', () => {
    expect(decodableFormats()).toEqual(['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif']);
  });

  it.each([
    ['png', (s: Sharp) => s.png(), 0],
    ['tiff', (s: Sharp) => s.tiff({ compression: 'lzw' }), 0],
    ['webp', (s: Sharp) => s.webp({ lossless: true }), 0],
    ['gif', (s: Sharp) => s.gif(), 0],
    ['jpeg', (s: Sharp) => s.jpeg({ quality: 95 }), 12],
    ['avif', (s: Sharp) => s.avif({ quality: 90 }), 24],
  ] as const)('decodes %s to the pixels it holds', async (format, encode, tolerance) => {
    const bytes = await encode(fromRaw(blocks)).toBuffer();
    const out = await preprocessImage(bytes, spec, LIMIT);
    expect(out.facts.format).toBe(format);
    const centre = (img: number[]) => img.filter((_, i) => [3, 4].includes(i % 8) && [3, 4].includes(Math.floor(i / 16) % 8));
    if (tolerance === 0) expect(toBytes(out.data)).toEqual(chw(blocks));
    else expect(maxDiff(centre(toBytes(out.data)), centre(chw(blocks)))).toBeLessThanOrEqual(tolerance);
  });
});

describe('decoding special encodings', () => {
  it('applies EXIF orientation 6 (rotate 90 degrees clockwise)', async () => {
    // Stored 32x16: quadrants TL=255, TR=170, BL=85, BR=0.
    const stored = rawImage(32, 16, 1, (x, y) => [255, 170, 85, 0][(y >= 8 ? 2 : 0) + (x >= 16 ? 1 : 0)]!);
    const jpeg = await fromRaw(stored).toColourspace('b-w').jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
    const out = await preprocessImage(jpeg, plainSpec({ channels: 1, width: 16, height: 32 }), LIMIT);
    expect(out.facts).toMatchObject({ orientation: 6, width: 16, height: 32 });
    const px = (x: number, y: number) => Math.round(at(out.data, 16, 32, 0, x, y) * 255);
    // Displayed 16x32: TL=stored BL, TR=stored TL, BL=stored BR, BR=stored TR.
    const quadrants = [px(4, 8), px(12, 8), px(4, 24), px(12, 24)];
    expect(maxDiff(quadrants, [85, 255, 0, 170])).toBeLessThanOrEqual(3);
  });

  it('reads a 16-bit RGB PNG as its 8-bit values', async () => {
    const img = rawImage(16, 16, 3, (x, y, c) => (x * 16 + y + c * 50) & 0xff);
    const wide = new Uint16Array(img.data.length).map((_, i) => (img.data[i] as number) * 257);
    const png = await sharp(wide, { raw: { width: 16, height: 16, channels: 3 } })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    expect((await sharp(png).metadata()).depth).toBe('ushort');
    const out = await preprocessImage(png, spec, LIMIT);
    expect(toBytes(out.data)).toEqual(chw(img));
  });

  it('reads a 16-bit gray PNG as its 8-bit values', async () => {
    const img = rawImage(16, 16, 1, (x, y) => x * 16 + y);
    const wide = new Uint16Array(img.data.length).map((_, i) => (img.data[i] as number) * 257);
    const png = await sharp(wide, { raw: { width: 16, height: 16, channels: 1 } })
      .toColourspace('grey16')
      .png()
      .toBuffer();
    expect((await sharp(png).metadata()).space).toBe('grey16');
    const out = await preprocessImage(png, plainSpec({ channels: 1 }), LIMIT);
    expect(toBytes(out.data)).toEqual(chw(img));
  });

  it('converts a CMYK JPEG to sRGB', async () => {
    const red = rawImage(16, 16, 3, (_x, _y, c) => (c === 0 ? 220 : 30));
    const cmyk = await fromRaw(red).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const out = await preprocessImage(cmyk, spec, LIMIT);
    const [r, g, b] = [0, 1, 2].map((c) => at(out.data, 16, 16, c, 8, 8) * 255);
    expect(r).toBeGreaterThan(180);
    expect(g).toBeLessThan(80);
    expect(b).toBeLessThan(80);
  });

  it('expands a palette PNG', async () => {
    const png = await fromRaw(blocks).png({ palette: true, colours: 4, dither: 0 }).toBuffer();
    expect((await sharp(png).metadata()).isPalette).toBe(true);
    const out = await preprocessImage(png, spec, LIMIT);
    expect(toBytes(out.data)).toEqual(chw(blocks));
  });

  it('flattens alpha onto the spec background', async () => {
    // Left column transparent, right column opaque green, middle half-transparent green.
    const rgba = rawImage(3, 1, 4, (x, _y, c) => (c === 3 ? [0, 128, 255][x]! : c === 1 ? 200 : 0));
    const png = await fromRaw(rgba).png().toBuffer();
    const out = await preprocessImage(png, plainSpec({ width: 3, height: 1, background: [255, 0, 0] }), LIMIT);
    const px = (x: number) => [0, 1, 2].map((c) => Math.round(at(out.data, 3, 1, c, x, 0) * 255));
    expect(px(0)).toEqual([255, 0, 0]);
    expect(px(2)).toEqual([0, 200, 0]);
    expect(maxDiff(px(1), [127, 100, 0])).toBeLessThanOrEqual(2);
  });

  it('uses only the first frame of an animated GIF', async () => {
    // Two 8x8 frames stacked: white, then black.
    const frames = rawImage(8, 16, 3, (_x, y) => (y < 8 ? 255 : 0));
    const gif = await sharp(frames.data, { raw: { width: 8, height: 16, channels: 3, pageHeight: 8 } })
      .gif()
      .toBuffer();
    const out = await preprocessImage(gif, plainSpec({ width: 8, height: 8 }), LIMIT);
    expect(out.facts).toMatchObject({ format: 'gif', pages: 2, width: 8, height: 8 });
    expect(toBytes(out.data).every((v) => v === 255)).toBe(true);
  });
});

describe('colour space conversion', () => {
  it('turns colour into gray with ITU-R 601 luma, as PIL convert("L") does', async () => {
    const img = rawImage(2, 1, 3, (x, _y, c) => (x === 0 ? [255, 0, 0][c]! : [10, 200, 30][c]!));
    const out = await preprocessImage(await fromRaw(img).png().toBuffer(), plainSpec({ channels: 1, width: 2, height: 1 }), LIMIT);
    expect(toBytes(out.data)).toEqual([76, 124]);
  });

  it('repeats a gray image into three sRGB channels', async () => {
    const gray = rawImage(4, 4, 1, (x, y) => x * 60 + y);
    const png = await fromRaw(gray).toColourspace('b-w').png().toBuffer();
    const out = await preprocessImage(png, plainSpec({ width: 4, height: 4 }), LIMIT);
    const plane = chw(gray);
    expect(toBytes(out.data)).toEqual([...plane, ...plane, ...plane]);
  });
});

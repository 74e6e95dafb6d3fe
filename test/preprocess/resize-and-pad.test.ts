import type { InputSpec } from '../../src/config';
import { preprocessImage } from '../../src/preprocess';
import { at, chw, fromRaw, LIMIT, noiseBytes, plainSpec, rawImage, toBytes } from './images';

const WHITE = rawImage(40, 20, 1, () => 255);

function graySpec(fit: InputSpec['resize']['fit'], extra: Partial<InputSpec> = {}): InputSpec {
  return plainSpec({ channels: 1, width: 20, height: 20, resize: { width: 20, height: 20, fit }, ...extra });
}

/** Row `y` of a 1-channel W-wide tensor as bytes. */
function row(data: Float32Array, w: number, h: number, y: number): number[] {
  return Array.from({ length: w }, (_, x) => Math.round(at(data, w, h, 0, x, y) * 255));
}

describe('resize fit modes', () => {
  it('fill stretches a 40x20 image to 20x20', async () => {
    const png = await fromRaw(WHITE).toColourspace('b-w').png().toBuffer();
    const out = await preprocessImage(png, graySpec('fill'), LIMIT);
    expect(out.shape).toEqual([1, 20, 20]);
    expect(toBytes(out.data).every((v) => v === 255)).toBe(true);
  });

  it('contain keeps the aspect ratio with background bars above and below', async () => {
    const png = await fromRaw(WHITE).toColourspace('b-w').png().toBuffer();
    const out = await preprocessImage(png, graySpec('contain', { background: [0, 0, 0] }), LIMIT);
    expect(out.shape).toEqual([1, 20, 20]);
    for (let y = 0; y < 20; y++) {
      const expected = y >= 5 && y < 15 ? 255 : 0;
      expect(row(out.data, 20, 20, y)).toEqual(new Array(20).fill(expected));
    }
  });

  it('contain puts bars left and right of a tall image, in the background colour', async () => {
    const tall = rawImage(10, 40, 3, () => 255);
    const out = await preprocessImage(
      await fromRaw(tall).png().toBuffer(),
      plainSpec({
        width: 20,
        height: 20,
        resize: { width: 20, height: 20, fit: 'contain' },
        background: [0, 0, 255],
      }),
      LIMIT,
    );
    const px = (x: number, y: number) => [0, 1, 2].map((c) => Math.round(at(out.data, 20, 20, c, x, y) * 255));
    // Content is 5x20, centred: columns 7..11 (the odd bar column goes right).
    for (let x = 0; x < 20; x++) {
      const expected = x >= 7 && x < 12 ? [255, 255, 255] : [0, 0, 255];
      expect([px(x, 0), px(x, 10), px(x, 19)]).toEqual([expected, expected, expected]);
    }
  });

  it('cover scales the shorter side and crops the centre', async () => {
    // 40x20: left quarter 0, middle half 128, right quarter 255; cover keeps columns 10..29.
    const striped = rawImage(40, 20, 1, (x) => (x < 10 ? 0 : x < 30 ? 128 : 255));
    const png = await fromRaw(striped).toColourspace('b-w').png().toBuffer();
    const out = await preprocessImage(png, graySpec('cover'), LIMIT);
    expect(out.shape).toEqual([1, 20, 20]);
    expect(toBytes(out.data).every((v) => v === 128)).toBe(true);
  });

  it('downscales with an antialiasing filter (a 2x checkerboard averages to mid gray)', async () => {
    const checker = rawImage(40, 40, 1, (x, y) => ((x + y) % 2 === 0 ? 0 : 255));
    const png = await fromRaw(checker).toColourspace('b-w').png().toBuffer();
    const out = await preprocessImage(png, graySpec('fill'), LIMIT);
    // Away from the edges (where libvips extends the border) every output pixel averages its neighbourhood.
    for (let y = 2; y < 18; y++)
      row(out.data, 20, 20, y)
        .slice(2, 18)
        .forEach((v) => expect(Math.abs(v - 127.5)).toBeLessThanOrEqual(1));
    toBytes(out.data).forEach((v) => expect(Math.abs(v - 127.5)).toBeLessThanOrEqual(10));
  });

  it('does not resample an image that already has the resize size', async () => {
    const noise = rawImage(20, 20, 3, (x, y, c) => noiseBytes(1200, 3)[(y * 20 + x) * 3 + c] as number);
    const png = await fromRaw(noise).png().toBuffer();
    for (const fit of ['fill', 'contain', 'cover'] as const) {
      const out = await preprocessImage(png, plainSpec({ width: 20, height: 20, resize: { width: 20, height: 20, fit } }), LIMIT);
      expect(toBytes(out.data)).toEqual(chw(noise));
    }
  });
});

describe('padding', () => {
  it('pads top, right, bottom and left with the background', async () => {
    const img = rawImage(4, 3, 3, () => 255);
    const spec = plainSpec({
      width: 4 + 4 + 2,
      height: 3 + 1 + 3,
      resize: { width: 4, height: 3, fit: 'fill' },
      pad: [1, 2, 3, 4],
      background: [10, 20, 30],
    });
    const out = await preprocessImage(await fromRaw(img).png().toBuffer(), spec, LIMIT);
    expect(out.shape).toEqual([3, 7, 10]);
    for (let y = 0; y < 7; y++) {
      for (let x = 0; x < 10; x++) {
        const inside = y >= 1 && y < 4 && x >= 4 && x < 8;
        const px = [0, 1, 2].map((c) => Math.round(at(out.data, 10, 7, c, x, y) * 255));
        expect(px).toEqual(inside ? [255, 255, 255] : [10, 20, 30]);
      }
    }
  });

  it('pads and flattens a gray image with the background as 601 luma', async () => {
    // Gray + alpha: left pixel transparent, right opaque 200.
    const ga = rawImage(2, 1, 2, (x, _y, c) => (c === 0 ? 200 : x === 0 ? 0 : 255));
    const png = await fromRaw(ga).toColourspace('b-w').png().toBuffer();
    const spec = plainSpec({
      channels: 1,
      width: 3,
      height: 1,
      resize: { width: 2, height: 1, fit: 'fill' },
      pad: [0, 1, 0, 0],
      background: [10, 200, 30],
    });
    const out = await preprocessImage(png, spec, LIMIT);
    expect(toBytes(out.data)).toEqual([124, 200, 124]);
  });
});

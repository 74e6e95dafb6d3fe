import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { preprocessImage } from '../../src/preprocess';
import { RESNET_BUNDLE } from '../support/bundles';
import { LIMIT, plainSpec, toBytes } from './images';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'cmyk');
const gray28 = plainSpec({ channels: 1, width: 28, height: 28 });

/** Gray 0..255 per pixel, as the model's gray pipeline sees the bytes. */
async function grayPixels(bytes: Uint8Array): Promise<number[]> {
  return toBytes((await preprocessImage(bytes, gray28, LIMIT)).data);
}

describe('CMYK JPEGs without an ICC profile decode as image viewers show them', () => {
  it('a white-on-black image keeps its black at 0 and its tones (Pillow wrote it from the PNG)', async () => {
    const original = await grayPixels(readFileSync(path.join(RESNET_BUNDLE, 'fixtures', '00.png')));
    const cmyk = await grayPixels(readFileSync(path.join(FIXTURES, 'fmnist-00-cmyk.jpg')));
    // The corners are background: black in the original, ~23 through libvips' fallback press profile.
    expect(Math.max(cmyk[0]!, cmyk[27]!, cmyk[27 * 28]!, cmyk[28 * 28 - 1]!)).toBeLessThanOrEqual(2);
    const diffs = cmyk.map((v, i) => Math.abs(v - original[i]!));
    expect(diffs.reduce((a, b) => a + b, 0) / diffs.length).toBeLessThan(1.5);
    expect(Math.max(...diffs)).toBeLessThanOrEqual(12); // JPEG at quality 95 around sharp edges
  });

  it('converts every channel with the ink formula R = (255 - C)(255 - K) / 255 (Chrome, Firefox, Pillow)', async () => {
    const out = toBytes((await preprocessImage(readFileSync(path.join(FIXTURES, 'inks-cmyk.jpg')), plainSpec(), LIMIT)).data);
    const rgb = (x: number, y: number): number[] => [0, 1, 2].map((c) => out[c * 256 + y * 16 + x]!);
    const inks = [
      [0, 0, 0, 0],
      [0, 0, 0, 255],
      [255, 128, 0, 0],
      [60, 120, 200, 100],
    ];
    inks.forEach(([c, m, y, k], i) => {
      const expected = [c, m, y].map((ink) => Math.round(((255 - ink!) * (255 - k!)) / 255));
      const got = rgb((i % 2) * 8 + 4, Math.floor(i / 2) * 8 + 4);
      got.forEach((v, ch) => expect(Math.abs(v - expected[ch]!)).toBeLessThanOrEqual(2));
    });
  });

  it('a CMYK JPEG with its ICC profile still goes through that profile', async () => {
    const png = readFileSync(path.join(RESNET_BUNDLE, 'fixtures', '00.png'));
    const profiled = await sharp(png).toColourspace('cmyk').jpeg({ quality: 95 }).keepIccProfile().toBuffer();
    expect((await sharp(profiled).metadata()).hasProfile).toBe(true);
    const bySharp = [...(await sharp(profiled).toColourspace('b-w').raw().toBuffer())];
    const ours = await grayPixels(profiled);
    expect(Math.max(...ours.map((v, i) => Math.abs(v - bySharp[i]!)))).toBeLessThanOrEqual(1);
  });
});

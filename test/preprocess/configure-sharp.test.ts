import sharp from 'sharp';
import { configureSharp, preprocessImage, sharpCounters, sharpState } from '../../src/preprocess';
import { fromRaw, LIMIT, plainSpec, rawImage } from './images';

const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>');

describe('configureSharp', () => {
  // libvips settings are process-wide: put back sharp's defaults for whatever runs next in this worker.
  afterAll(() => configureSharp({ threads: 0, cacheMemoryMb: 50, restrictLoaders: false }));

  it('sets threads per image and reports the state', () => {
    const state = configureSharp({ threads: 2 });
    expect(state.threads).toBe(2);
    expect(sharpState().threads).toBe(2);
    expect(state.versions.sharp).toBe('0.35.5');
    expect(sharpCounters()).toEqual({ queued: expect.any(Number), processing: expect.any(Number) });
  });

  it('refuses a bad thread count', () => {
    expect(() => configureSharp({ threads: -1 })).toThrow(RangeError);
  });

  it('keeps every accepted format decodable while blocking other libvips loaders', async () => {
    configureSharp({ threads: 1, restrictLoaders: true });
    const img = fromRaw(rawImage(8, 8, 3, (x, y, c) => x + y + c));
    const encoded = await Promise.all([
      img.clone().jpeg().toBuffer(),
      img.clone().png().toBuffer(),
      img.clone().webp().toBuffer(),
      img.clone().gif().toBuffer(),
      img.clone().tiff().toBuffer(),
      img.clone().avif().toBuffer(),
    ]);
    const spec = plainSpec({ width: 8, height: 8 });
    const formats = await Promise.all(encoded.map(async (bytes) => (await preprocessImage(bytes, spec, LIMIT)).facts.format));
    expect(formats).toEqual(['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif']);
    await expect(sharp(SVG).raw().toBuffer()).rejects.toThrow();

    configureSharp({ threads: 1, restrictLoaders: false });
    await expect(sharp(SVG).raw().toBuffer()).resolves.toBeInstanceOf(Buffer);
  });
});

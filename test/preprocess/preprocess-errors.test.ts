import sharp from 'sharp';
import type { ErrorCode } from '../../src/errors';
import { EeroError } from '../../src/errors';
import { preprocessImage } from '../../src/preprocess';
import { fromRaw, LIMIT, noiseBytes, plainSpec, pngDeclaring, rawImage } from './images';

const spec = plainSpec();

/** Runs preprocessing and returns the EeroError it must throw. */
async function failure(bytes: Uint8Array, options = LIMIT): Promise<EeroError> {
  try {
    await preprocessImage(bytes, spec, options);
  } catch (e) {
    if (e instanceof EeroError) return e;
    throw new Error(`Expected an EeroError, got ${String(e)}`, { cause: e });
  }
  throw new Error('Expected preprocessing to fail, but it succeeded.');
}

async function expectCode(bytes: Uint8Array, code: ErrorCode, options = LIMIT): Promise<EeroError> {
  const error = await failure(bytes, options);
  expect(error.code).toBe(code);
  // One clear sentence.
  expect(error.message).toMatch(/^[A-Z][^\n]*\.$/);
  return error;
}

const photo = rawImage(64, 64, 3, (x, y, c) => noiseBytes(64 * 64 * 3, 9)[(y * 64 + x) * 3 + c] as number);

describe('preprocessing refuses bad input with its own code', () => {
  it('EMPTY_INPUT for zero bytes', async () => {
    await expectCode(Buffer.alloc(0), 'EMPTY_INPUT');
    await expectCode(new Uint8Array(0), 'EMPTY_INPUT');
  });

  it.each([
    ['random bytes', noiseBytes(1000, 42)],
    ['text', Buffer.from('hello, this is plainly not an image\n')],
    ['a PDF', Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n')],
    ['JSON', Buffer.from('{"image": "base64..."}')],
  ])('NOT_AN_IMAGE for %s', async (_name, bytes) => {
    await expectCode(bytes, 'NOT_AN_IMAGE');
  });

  it.each([
    ['SVG (vector input is refused)', Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>')],
    ['HEIC', Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic\0\0\0\0mif1heic')])],
    ['JPEG 2000', Buffer.from([0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a, 0, 0, 0, 0])],
    ['BMP', Buffer.concat([Buffer.from('BM'), Buffer.alloc(12), Buffer.from([40, 0, 0, 0]), Buffer.alloc(40)])],
    ['PSD', Buffer.concat([Buffer.from('8BPS'), Buffer.alloc(30)])],
  ])('UNSUPPORTED_FORMAT for %s', async (_name, bytes) => {
    const error = await expectCode(bytes, 'UNSUPPORTED_FORMAT');
    expect(error.message).toContain('jpeg, png');
  });

  it.each([
    ['JPEG', () => fromRaw(photo).jpeg().toBuffer()],
    ['PNG', () => fromRaw(photo).png().toBuffer()],
    ['WebP', () => fromRaw(photo).webp().toBuffer()],
    ['GIF', () => fromRaw(photo).gif().toBuffer()],
    ['TIFF', () => fromRaw(photo).tiff({ compression: 'lzw' }).toBuffer()],
    ['AVIF', () => fromRaw(photo).avif().toBuffer()],
  ])('CORRUPT_IMAGE for a %s cut in half', async (_name, encode) => {
    const whole = await encode();
    const error = await expectCode(whole.subarray(0, whole.length >> 1), 'CORRUPT_IMAGE');
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('CORRUPT_IMAGE for a JPEG missing only its last bytes (no grey fill)', async () => {
    const jpeg = await fromRaw(photo).jpeg().toBuffer();
    await expectCode(jpeg.subarray(0, jpeg.length - 2), 'CORRUPT_IMAGE');
  });

  it('CORRUPT_IMAGE for a bare magic number', async () => {
    await expectCode(Buffer.from([0xff, 0xd8, 0xff]), 'CORRUPT_IMAGE');
    await expectCode(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 'CORRUPT_IMAGE');
  });

  it('TOO_MANY_PIXELS from the header of a tiny PNG declaring 20000x20000, before decoding', async () => {
    const bomb = await pngDeclaring(20000, 20000);
    expect(bomb.length).toBeLessThan(200);
    // Its pixel data is a few bytes: a decode would fail on them (CORRUPT_IMAGE); the header's size is what refuses it.
    const error = await expectCode(bomb, 'TOO_MANY_PIXELS');
    expect(error.details).toMatchObject({ width: 20000, height: 20000, limitInputPixels: LIMIT.limitInputPixels });
  });

  it('TOO_MANY_PIXELS for a large flat image compressed small', async () => {
    const flat = await sharp({ create: { width: 2000, height: 2000, channels: 3, background: '#808080' } })
      .png({ compressionLevel: 9 })
      .toBuffer();
    expect(flat.length).toBeLessThan(100_000);
    await expectCode(flat, 'TOO_MANY_PIXELS', { limitInputPixels: 1_000_000 });
  });

  it('accepts an image of exactly limitInputPixels', async () => {
    const png = await fromRaw(rawImage(16, 16, 3, () => 9))
      .png()
      .toBuffer();
    await expect(preprocessImage(png, spec, { limitInputPixels: 256 })).resolves.toBeDefined();
    await expectCode(png, 'TOO_MANY_PIXELS', { limitInputPixels: 255 });
  });

  it('ABORTED when the signal is already aborted', async () => {
    const png = await fromRaw(rawImage(16, 16, 3, () => 9))
      .png()
      .toBuffer();
    const controller = new AbortController();
    controller.abort();
    await expect(preprocessImage(png, spec, { ...LIMIT, signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

import { isDecodableFormat, sniffFormat } from '../../src/preprocess';
import { fromRaw, noiseBytes, rawImage } from './images';

describe('sniffFormat names formats from magic bytes', () => {
  const img = rawImage(8, 8, 3, (x, y, c) => x * 30 + y * 3 + c);

  it.each([
    ['jpeg', () => fromRaw(img).jpeg().toBuffer()],
    ['png', () => fromRaw(img).png().toBuffer()],
    ['webp', () => fromRaw(img).webp().toBuffer()],
    ['gif', () => fromRaw(img).gif().toBuffer()],
    ['tiff', () => fromRaw(img).tiff().toBuffer()],
    ['avif', () => fromRaw(img).avif().toBuffer()],
  ] as const)('recognises %s made by sharp, and it is decodable', async (format, encode) => {
    const bytes = await encode();
    expect(sniffFormat(bytes)).toBe(format);
    expect(isDecodableFormat(sniffFormat(bytes))).toBe(true);
  });

  it.each([
    ['heif', Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic\0\0\0\0mif1heic')])],
    ['avif', Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypmif1\0\0\0\0mif1avif')])],
    ['tiff', Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8])],
    ['jp2', Buffer.from([0xff, 0x4f, 0xff, 0x51, 0, 0])],
    ['jxl', Buffer.from([0xff, 0x0a, 0, 0])],
    ['psd', Buffer.from('8BPS\0\x01')],
    ['bmp', Buffer.concat([Buffer.from('BM'), Buffer.alloc(12), Buffer.from([124, 0, 0, 0])])],
    ['svg', Buffer.from('\uFEFF  <svg viewBox="0 0 1 1"></svg>')],
    ['svg', Buffer.from('<?xml version="1.0"?><!-- a drawing --><svg xmlns="http://www.w3.org/2000/svg"/>')],
  ])('recognises %s from its header', (format, bytes) => {
    expect(sniffFormat(bytes)).toBe(format);
  });

  it.each([
    ['empty', Buffer.alloc(0)],
    ['random bytes', noiseBytes(64, 1)],
    ['text starting with BM', Buffer.from('BMW is a car maker, not a bitmap header at all')],
    ['PDF', Buffer.from('%PDF-1.4\n')],
    ['HTML', Buffer.from('<!doctype html><html><body>hi</body></html>')],
    ['an ftyp box of a video', Buffer.concat([Buffer.from([0, 0, 0, 0x14]), Buffer.from('ftypisom\0\0\0\0mp41')])],
  ])('returns undefined for %s', (_name, bytes) => {
    expect(sniffFormat(bytes)).toBeUndefined();
  });

  it('works on a Uint8Array view into a larger buffer', async () => {
    const png = await fromRaw(img).png().toBuffer();
    const big = new Uint8Array(png.length + 10);
    big.set(png, 10);
    expect(sniffFormat(big.subarray(10))).toBe('png');
    expect(isDecodableFormat('heif')).toBe(false);
  });
});

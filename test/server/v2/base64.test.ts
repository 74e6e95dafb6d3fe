import fc from 'fast-check';
import { decodeBase64 } from '../../../src/server/v2/base64';

const WHITESPACE = [' ', '\t', '\n', '\r', '\f', '\v'];

describe('decodeBase64: a JSON BYTES element checked and decoded in one pass', () => {
  test('standard and URL-safe base64, with a little ASCII whitespace anywhere, give back the bytes (fast-check)', () => {
    const arbitrary = fc.record({
      bytes: fc.uint8Array({ minLength: 240, maxLength: 400 }),
      url: fc.boolean(),
      pad: fc.boolean(),
      spaces: fc.array(fc.record({ at: fc.nat(), ws: fc.constantFrom(...WHITESPACE) }), { maxLength: 20 }),
    });
    fc.assert(
      fc.property(arbitrary, ({ bytes, url, pad, spaces }) => {
        let text = Buffer.from(bytes).toString(url ? 'base64url' : 'base64');
        if (!pad) text = text.replace(/=+$/, '');
        for (const { at, ws } of spaces) {
          const i = at % (text.length + 1);
          text = text.slice(0, i) + ws + text.slice(i);
        }
        expect(decodeBase64(text)?.equals(Buffer.from(bytes))).toBe(true);
      }),
      { seed: 20261207, numRuns: 500 },
    );
  });

  test('anything else is refused: a character outside both alphabets, padding inside, three pads', () => {
    for (const text of ['QUJD*', 'QU=JD', 'QQ===', 'QUJD\u00a0', 'QUJDé', 'QQ==\nQQ']) expect(decodeBase64(text)).toBeUndefined();
    expect(decodeBase64('')?.length).toBe(0);
  });

  test('whitespace is allowed up to one character in 16 (MIME puts a line break after 76), no more', () => {
    const bytes = Buffer.alloc(3000, 0xa5);
    const mime = bytes.toString('base64').replace(/.{76}/g, '$&\r\n');
    expect(decodeBase64(mime)?.equals(bytes)).toBe(true);
    const sparse = bytes.toString('base64').replace(/.{15}/g, '$& ');
    expect(decodeBase64(sparse)?.equals(bytes)).toBe(true);
    expect(decodeBase64(bytes.toString('base64').replace(/.{2}/g, '$& '))).toBeUndefined();
  });
});

/**
 * File names as bytes, written as text without loss: valid UTF-8 stays as it
 * is except `%`, which becomes `%25`; a byte that is not part of valid UTF-8
 * becomes `%XX`. So every name (a newline in it, Latin-1 bytes) has exactly
 * one text form, and resume finds it again.
 */
import { TextDecoder } from 'node:util';

const strict = new TextDecoder('utf-8', { fatal: true });

export function nameText(bytes: Buffer): string {
  try {
    return strict.decode(bytes).replace(/%/g, '%25');
  } catch {
    // Decode what is valid, escape the rest byte by byte.
    let out = '';
    let i = 0;
    while (i < bytes.length) {
      const len = utf8Length(bytes, i);
      if (len > 0) {
        out += bytes.toString('utf8', i, i + len).replace(/%/g, '%25');
        i += len;
      } else {
        out += `%${(bytes[i] as number).toString(16).toUpperCase().padStart(2, '0')}`;
        i++;
      }
    }
    return out;
  }
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0. */
function utf8Length(b: Buffer, i: number): number {
  const c = b[i] as number;
  const n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n === 0 || i + n > b.length) return 0;
  try {
    strict.decode(b.subarray(i, i + n));
    return n;
  } catch {
    return 0;
  }
}

/** @internal For the tests. */
export function nameBytes(text: string): Buffer {
  const parts: Buffer[] = [];
  let last = 0;
  const re = /%([0-9A-Fa-f]{2})/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    parts.push(Buffer.from(text.slice(last, m.index), 'utf8'), Buffer.from([parseInt(m[1] as string, 16)]));
    last = m.index + m[0].length;
  }
  parts.push(Buffer.from(text.slice(last), 'utf8'));
  return Buffer.concat(parts);
}

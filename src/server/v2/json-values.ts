/**
 * How many values a JSON text holds, bounded, before JSON.parse sees it.
 * Parsing runs on the event loop: 18 MB of numbers takes about 0.4 s there,
 * and flattening them as much again, so a few such bodies in flight would
 * stall every client. An inference request never needs more values than its
 * images' elements, so a text with more is refused after a scan that stops
 * at the limit (numbers: within the first megabyte or so) and jumps over
 * strings natively (a base64 image costs a memchr, not a loop).
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;

/** The index of the quote that closes the string opened at `open`, or -1 when it is never closed. */
function stringEnd(text: Buffer, open: number): number {
  let at = text.indexOf(QUOTE, open + 1);
  while (at !== -1) {
    let slashes = 0;
    while (text[at - 1 - slashes] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return at;
    at = text.indexOf(QUOTE, at + 1);
  }
  return -1;
}

/**
 * Whether `text` holds more than `limit` values. Every value but the first
 * follows a comma or a colon or opens an array or object, so counting those
 * outside strings bounds the values from above. Malformed text is left to
 * JSON.parse, which names the fault.
 */
export function jsonValuesOver(text: Buffer, limit: number): boolean {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end === -1) return false;
      i = end;
    } else if (c === COMMA || c === COLON || c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++count > limit) return true;
    }
  }
  return false;
}

import { jsonValuesOver } from '../../../src/server/v2/json-values';

const over = (text: string, limit: number): boolean => jsonValuesOver(Buffer.from(text, 'utf8'), limit);

describe('jsonValuesOver: a bound on the values a JSON text holds, read before parsing', () => {
  test('counts separators and openers: an array of n numbers holds at most n + 1 by that count, never fewer than n', () => {
    const numbers = (n: number): string => `[${Array.from({ length: n }, (_, i) => i).join(',')}]`;
    expect(over(numbers(1000), 1000)).toBe(false); // 999 commas + 1 opener
    expect(over(numbers(1002), 1000)).toBe(true);
    expect(over('{"a":{"b":[1,2]}}', 6)).toBe(false); // { : { : [ ,
    expect(over('{"a":{"b":[1,2]}}', 5)).toBe(true);
  });

  test('nothing inside a string counts, escaped quotes included; a long string costs nothing', () => {
    expect(over('["a,b,c:[{", "d\\",e,f", "\\\\", 1]', 4)).toBe(false); // [ and three commas
    expect(over('["a,b,c:[{", "d\\",e,f", "\\\\", 1]', 3)).toBe(true);
    const base64 = Buffer.alloc(3_000_000, 7).toString('base64');
    expect(over(`{"inputs":[{"name":"image","datatype":"BYTES","shape":[1],"data":["${base64}"]}]}`, 20)).toBe(false);
  });

  test('a number flood is refused at the limit, wherever it hides (a parameter the schema never reads)', () => {
    const flood = `{"inputs":[],"parameters":{"junk":[${new Array(200_000).fill(0).join(',')}]}}`;
    expect(over(flood, 100_000)).toBe(true);
    expect(over(`[${'['.repeat(50)}${']'.repeat(50)}]`, 50)).toBe(true); // openers count too: deep nesting
  });

  test('malformed text is left to JSON.parse: an unterminated string ends the count', () => {
    expect(over('["abc, 1, 2, 3', 0)).toBe(true); // the opener alone is over a limit of 0
    expect(over('"abc, 1, 2, 3', 0)).toBe(false);
    expect(over('', 0)).toBe(false);
  });
});

/**
 * The partition `classify --shard i/N` uses: a file's shard depends on its
 * relative path's bytes only, so N machines listing the same folder in any
 * order split it the same way, each file in exactly one shard.
 */
import * as fc from 'fast-check';
import { parseShard, shardOf } from '../../src/cli/folder/shard';

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Paths like a dataset's: class folders, numbered files, some non-ASCII and non-UTF-8 names. */
function dataset(n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) out.push(bytes(`${i % 10}/img_${String(i).padStart(6, '0')}.png`));
  out.push(bytes('é/été.jpg'), Buffer.from([0x66, 0xff, 0x2e, 0x70, 0x6e, 0x67]), bytes('a b/c,d.png'));
  return out;
}

describe('shardOf: a stable partition by relative path', () => {
  it('gives the same shards on every machine (golden values: the first 6 bytes of sha256, big-endian, mod N)', () => {
    // Computed independently (Python hashlib); a change here re-splits every fleet's folders.
    const golden: Array<[Buffer, number, number, number]> = [
      [bytes('0/00.png'), 2, 5, 554],
      [bytes('3/photo.jpg'), 1, 2, 329],
      [bytes('a/b/c.png'), 2, 4, 746],
      [bytes('é.png'), 2, 4, 46],
      [Buffer.from([0x66, 0xff, 0x2e, 0x70, 0x6e, 0x67]), 0, 4, 204],
    ];
    for (const [rel, n4, n7, n1000] of golden) expect([shardOf(rel, 4), shardOf(rel, 7), shardOf(rel, 1000)]).toEqual([n4, n7, n1000]);
  });

  it('does not depend on the order the files are listed in', () => {
    const files = dataset(500);
    const before = new Map(files.map((f) => [f.toString('hex'), shardOf(f, 4)]));
    const reversed = [...files].reverse();
    const shuffled = [...files].sort((a, b) => shardOf(a, 97) - shardOf(b, 97) || Buffer.compare(b, a));
    for (const order of [reversed, shuffled]) for (const f of order) expect(shardOf(f, 4)).toBe(before.get(f.toString('hex')));
  });

  it('puts every file in exactly one shard, for any N', () => {
    const files = dataset(300);
    for (const n of [1, 2, 3, 4, 7, 16]) {
      const parts = Array.from({ length: n }, (_, i) => files.filter((f) => shardOf(f, n) === i));
      expect(parts.reduce((sum, p) => sum + p.length, 0)).toBe(files.length);
      const seen = new Set(parts.flat().map((f) => f.toString('hex')));
      expect(seen.size).toBe(files.length);
    }
  });

  it('holds for arbitrary byte paths: in range, an integer, the same when asked again', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.integer({ min: 1, max: 1000 }), (raw, n) => {
        const rel = Buffer.from(raw);
        const s = shardOf(rel, n);
        return Number.isInteger(s) && s >= 0 && s < n && shardOf(Buffer.from(raw), n) === s;
      }),
    );
  });

  it('balances a folder roughly evenly', () => {
    const files = dataset(10_000);
    for (const n of [4, 8]) {
      const counts = new Array<number>(n).fill(0);
      for (const f of files) counts[shardOf(f, n)]! += 1;
      const p = 1 / n;
      const mean = files.length * p;
      // A uniform hash makes each count Binomial(files, 1/n); 4 standard deviations (~2-3% of the mean here) is rough balance.
      const sd = Math.sqrt(files.length * p * (1 - p));
      for (const c of counts) expect(Math.abs(c - mean)).toBeLessThan(4 * sd);
    }
  });

  it('distinguishes paths that differ only in a byte a text form would hide', () => {
    // Two invalid-UTF-8 names must not collapse to U+FFFD and so always share a shard.
    const shards = Array.from({ length: 64 }, (_, b) => shardOf(Buffer.from([0x61, 0x80 + b, 0x2e, 0x70, 0x6e, 0x67]), 4));
    expect(new Set(shards).size).toBeGreaterThan(1);
  });
});

describe('parseShard', () => {
  it('reads i/N with 0 <= i < N', () => {
    expect(parseShard('0/4')).toEqual({ index: 0, count: 4 });
    expect(parseShard(' 3 / 4 ')).toEqual({ index: 3, count: 4 });
    expect(parseShard('0/1')).toEqual({ index: 0, count: 1 });
  });

  it.each(['4/4', '1/0', '-1/4', '1.5/4', 'a/b', '1', '', '0/1000001'])('refuses %j with BAD_PARAMETER', (raw) => {
    expect(() => parseShard(raw)).toThrow(expect.objectContaining({ code: 'BAD_PARAMETER' }) as Error);
  });
});

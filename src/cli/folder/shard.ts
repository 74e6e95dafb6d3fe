/** A stable partition of a folder's files by relative path: the same file lands in the same shard on any machine. */
import { createHash } from 'node:crypto';
import { EeroError } from '../../errors';

export interface Shard {
  index: number;
  count: number;
}

/** "i/N" with 0 <= i < N. */
export function parseShard(raw: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(raw);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || !(count >= 1) || !(index < count) || count > 1_000_000) {
    throw new EeroError('BAD_PARAMETER', `--shard must be i/N with 0 <= i < N (e.g. 0/4), got ${JSON.stringify(raw)}`);
  }
  return { index, count };
}

/** The shard of a relative path: the first 6 bytes of its sha256, modulo N (independent of order and machine). */
export function shardOf(rel: Buffer, count: number): number {
  return createHash('sha256').update(rel).digest().readUIntBE(0, 6) % count;
}

/**
 * A tiny deterministic PRNG for tie-breaking noise. Not cryptographic; the
 * only requirements are reproducibility across runs and platforms (integer
 * maths via Math.imul, no Math.random) and a cheap way to derive independent
 * streams.
 */

/** mulberry32: 32 bits of state, uniform doubles in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => mulberryDraw((a = (a + MULBERRY_STEP) >>> 0));
}

const MULBERRY_STEP = 0x6d2b79f5;

/** mulberry32's output for state `a`, after its step. */
function mulberryDraw(a: number): number {
  let t = a;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** murmur3's 32-bit finaliser: spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Hash non-negative integers (up to 2^53) into one 32-bit seed. Used to give
 * every (seed, row, exit) its own noise stream, so that a row's noise does not
 * depend on which other rows share its batch or in which order they run.
 */
export function mixSeed(...words: readonly number[]): number {
  let h = MIX_START;
  for (const w of words) h = mixWord(h, w);
  return h;
}

const MIX_START = 0x9e3779b9;

/** One word (up to 2^53) into the hash: its low, then its high 32 bits. */
function mixWord(h: number, w: number): number {
  h = fmix32((h ^ (w >>> 0)) + 0x7f4a7c15);
  return fmix32((h ^ (Math.floor(w / 4294967296) >>> 0)) + 0x165667b1);
}

/**
 * `count` draws of rowStream(seed, key, exit), each times `scale`, written to `out` from `at`: the
 * same doubles, without a closure and an argument array per (row, exit) (a batch's graph inputs
 * fill rows x exits x classes of them).
 */
export function fillRowNoise(seed: number, key: number, exit: number, scale: number, out: Float64Array, at: number, count: number): void {
  let a = mixWord(mixWord(mixWord(MIX_START, seed), key), exit);
  for (let i = 0; i < count; i++) out[at + i] = scale * mulberryDraw((a = (a + MULBERRY_STEP) >>> 0));
}

/** The noise stream of one row at one exit. */
export function rowStream(seed: number, key: number, exit: number): () => number {
  return mulberry32(mixSeed(seed, key, exit));
}

/** Shuffle `items` in place with a seeded Fisher-Yates (the same order on every machine); returns them. */
export function seededShuffle<T extends { length: number; [i: number]: unknown }>(items: T, seed: number): T {
  const rand = mulberry32(seed);
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
  return items;
}

/** A seeded permutation of 0..n-1. */
export function permutation(n: number, seed: number): Int32Array {
  return seededShuffle(
    Int32Array.from({ length: n }, (_, i) => i),
    seed,
  );
}

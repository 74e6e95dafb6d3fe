/**
 * numpy's `RandomState(seed).permutation(n)`, which the toolkit uses to split
 * Fashion-MNIST's training images (models/FORMAT.md "Splits"): the legacy
 * MT19937 seeded by init_genrand, and a Fisher-Yates shuffle from the end
 * whose index is drawn by masked rejection (numpy's random_interval).
 */
const N = 624;

function mt19937(seed: number): () => number {
  const mt = new Uint32Array(N);
  mt[0] = seed >>> 0;
  for (let i = 1; i < N; i++) {
    const x = (mt[i - 1] as number) ^ ((mt[i - 1] as number) >>> 30);
    mt[i] = (Math.imul(1812433253, x) + i) >>> 0;
  }
  let at = N;
  const twist = (): void => {
    for (let i = 0; i < N; i++) {
      const y = ((mt[i] as number) & 0x80000000) | ((mt[(i + 1) % N] as number) & 0x7fffffff);
      mt[i] = (mt[(i + 397) % N] as number) ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    at = 0;
  };
  return () => {
    if (at >= N) twist();
    let y = mt[at++] as number;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  };
}

export function numpyPermutation(n: number, seed: number): Int32Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`numpyPermutation: bad n ${n}`);
  const next = mt19937(seed);
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i >= 1; i--) {
    let mask = i;
    for (let s = 1; s <= 16; s *= 2) mask |= mask >>> s;
    let j: number;
    do j = (next() & mask) >>> 0;
    while (j > i);
    const t = perm[i] as number;
    perm[i] = perm[j] as number;
    perm[j] = t;
  }
  return perm;
}

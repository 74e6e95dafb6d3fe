import { createDerivationLimiter } from '../../src/pipeline/derivation-limiter';

describe('the limit on new routing rules', () => {
  it('counts per client: one client at its limit does not stop another', () => {
    let now = 0;
    const limiter = createDerivationLimiter(() => now, { perClient: 2, windowMs: 1000 });
    expect([limiter.tryDerive('a'), limiter.tryDerive('a'), limiter.tryDerive('a')]).toEqual([true, true, false]);
    expect(limiter.tryDerive('b')).toBe(true);
    now = 999;
    expect(limiter.tryDerive('a')).toBe(false);
    now = 1000;
    // The window has passed for the first two.
    expect(limiter.tryDerive('a')).toBe(true);
  });

  it('forgets the least recently seen clients beyond its size, never more than it holds', () => {
    const limiter = createDerivationLimiter(() => 0, { perClient: 1, windowMs: 1000, maxClients: 2 });
    expect(limiter.tryDerive('a')).toBe(true);
    expect(limiter.tryDerive('b')).toBe(true);
    expect(limiter.tryDerive('c')).toBe(true); // a is forgotten
    expect(limiter.tryDerive('b')).toBe(false);
    expect(limiter.tryDerive('a')).toBe(true);
  });
});

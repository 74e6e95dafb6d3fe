import { createDerivationLimiter, LOCAL_CLIENT } from '../../src/pipeline/derivation-limiter';

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

  it('counts per address too: new clients from one address stop at its limit, and their refusals are not counted', () => {
    const limiter = createDerivationLimiter(() => 0, { perClient: 2, perAddress: 3, windowMs: 1000 });
    expect(['k1', 'k2', 'k3', 'k4'].map((k) => limiter.tryDerive(k, '10.0.0.1'))).toEqual([true, true, true, false]);
    // Another address, and a client without one, are not stopped.
    expect(limiter.tryDerive('k5', '10.0.0.2')).toBe(true);
    expect(limiter.tryDerive('k6')).toBe(true);
    // A client at its own limit does not spend its address's.
    const other = createDerivationLimiter(() => 0, { perClient: 1, perAddress: 2, windowMs: 1000 });
    expect([other.tryDerive('a', 'x'), other.tryDerive('a', 'x'), other.tryDerive('a', 'x')]).toEqual([true, false, false]);
    expect(other.tryDerive('b', 'x')).toBe(true);
  });

  it("does not limit the operator's own process (the local client, from no address)", () => {
    const limiter = createDerivationLimiter(() => 0, { perClient: 1, perAddress: 1, windowMs: 1000 });
    expect([limiter.tryDerive(LOCAL_CLIENT), limiter.tryDerive(LOCAL_CLIENT)]).toEqual([true, true]);
    expect([limiter.tryDerive(LOCAL_CLIENT, '10.0.0.1'), limiter.tryDerive(LOCAL_CLIENT, '10.0.0.1')]).toEqual([true, false]);
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

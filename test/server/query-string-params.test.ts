/** v1 query parameters parsed once per distinct query string, shared frozen, and refused every time when bad. */
import { queryStringParams } from '../../src/server/params';

describe('queryStringParams', () => {
  it('parses a query string once: later requests with it share the frozen result', () => {
    let parses = 0;
    const parse = (): Record<string, unknown> => (parses++, { deadline_ms: '50', topk: '3' });
    const a = queryStringParams('/v1/classify?deadline_ms=50&topk=3&unique=qsp-1', parse);
    const b = queryStringParams('/v1/classify?deadline_ms=50&topk=3&unique=qsp-1', parse);
    expect(parses).toBe(1);
    expect(b).toBe(a);
    expect(a).toMatchObject({ topk: 3, routing: { deadlineMs: 50 } });
    expect(Object.isFrozen(a) && Object.isFrozen(a.routing)).toBe(true);
  });

  it('parses another query string on its own', () => {
    const a = queryStringParams('/v1/classify?topk=2&unique=qsp-2', () => ({ topk: '2' }));
    const b = queryStringParams('/v1/classify?topk=4&unique=qsp-2', () => ({ topk: '4' }));
    expect([a.topk, b.topk]).toEqual([2, 4]);
  });

  it('refuses a bad value every time it is sent, parsing it again', () => {
    let parses = 0;
    const parse = (): Record<string, unknown> => (parses++, { deadline_ms: '-1' });
    for (let i = 0; i < 2; i++) {
      expect(() => queryStringParams('/v1/classify?deadline_ms=-1&unique=qsp-3', parse)).toThrow(
        expect.objectContaining({ code: 'BAD_PARAMETER' }) as Error,
      );
    }
    expect(parses).toBe(2);
  });

  it('keeps a bounded number of query strings and parses an evicted one again', () => {
    let parses = 0;
    const parse = (): Record<string, unknown> => (parses++, {});
    queryStringParams('/v1/classify?unique=qsp-first', parse);
    for (let i = 0; i < 300; i++) queryStringParams(`/v1/classify?unique=qsp-fill-${i}`, () => ({}));
    queryStringParams('/v1/classify?unique=qsp-first', parse);
    expect(parses).toBe(2);
  });
});

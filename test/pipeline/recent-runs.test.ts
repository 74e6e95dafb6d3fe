import { RecentValues } from '../../src/pipeline/recent-runs';

describe('recent values', () => {
  test('a quantile is read from the values in the window only, the lower one between two ranks', () => {
    const w = new RecentValues(4);
    expect(w.quantile(0.5)).toBeUndefined();
    for (const v of [10, 1, 3, 2]) w.add(v);
    expect(w.quantile(0.5)).toBe(2);
    expect(w.quantile(0.9)).toBe(3);
    expect(w.quantile(1)).toBe(10);
    // The fifth value replaces the first (10): the window forgets it.
    w.add(0);
    expect(w.quantile(1)).toBe(3);
    expect(w.quantile(0)).toBe(0);
    expect(w.count).toBe(5);
  });
});

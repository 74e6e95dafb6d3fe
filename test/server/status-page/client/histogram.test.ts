/** Latency percentiles from histogram buckets, as Prometheus' histogram_quantile computes them. */
import { bucketIncrease, histogramQuantile } from '../../../../src/server/status-page/client/histogram';
import { snapshot } from '../../../../src/server/status-page/client/prometheus';

describe('histogramQuantile', () => {
  test('interpolates linearly inside the bucket that holds the rank', () => {
    const b = [
      { le: 0.1, count: 50 },
      { le: 0.2, count: 100 },
      { le: Infinity, count: 100 },
    ];
    expect(histogramQuantile(0.5, b)?.seconds).toBeCloseTo(0.1, 12);
    expect(histogramQuantile(0.75, b)?.seconds).toBeCloseTo(0.15, 12);
    expect(histogramQuantile(0.25, b)?.seconds).toBeCloseTo(0.05, 12);
    expect(histogramQuantile(0.25, b)?.above).toBe(false);
  });

  test('a rank in the +Inf bucket is "above" the highest finite bound', () => {
    const b = [
      { le: 0.1, count: 1 },
      { le: Infinity, count: 10 },
    ];
    expect(histogramQuantile(0.99, b)).toEqual({ seconds: 0.1, above: true });
  });

  test('no answer without observations or without a +Inf bucket', () => {
    expect(histogramQuantile(0.5, [{ le: Infinity, count: 0 }])).toBeUndefined();
    expect(histogramQuantile(0.5, [{ le: 1, count: 5 }])).toBeUndefined();
    expect(histogramQuantile(0.5, [])).toBeUndefined();
  });
});

test("bucketIncrease subtracts the previous poll's buckets, over the series kept, never below zero", () => {
  const series = (fast: number, all: number, other: number): string =>
    [`h_bucket{le="0.1",r="a"} ${fast}`, `h_bucket{le="+Inf",r="a"} ${all}`, `h_bucket{le="+Inf",r="b"} ${other}`].join('\n');
  const prev = snapshot(series(1, 2, 50), 0);
  const cur = snapshot(series(4, 9, 70), 1000);
  const keepA = (labels: Record<string, string>): boolean => labels.r === 'a';
  expect(bucketIncrease(prev, cur, 'h', keepA)).toEqual([
    { le: 0.1, count: 3 },
    { le: Infinity, count: 7 },
  ]);
  expect(bucketIncrease(null, cur, 'h', keepA)).toEqual([
    { le: 0.1, count: 4 },
    { le: Infinity, count: 9 },
  ]);
  // A restart between the polls (counters lower than before) gives no negative counts.
  expect(bucketIncrease(cur, prev, 'h', keepA).map((b) => b.count)).toEqual([0, 0]);
});

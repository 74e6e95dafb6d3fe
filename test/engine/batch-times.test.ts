/** The batch-time model's arithmetic (no engine): measured sizes, interpolation between them, the seconds unit from them. */
import { batchSizesUpTo, exitSecondsAt, overheadMsAt, stageMsAt, type BatchTimes } from '../../src/engine';
import { graphTimes, monotone } from '../../src/engine/batch-times';

const TIMES: BatchTimes = {
  sizes: [1, 2, 8, 32],
  stageMs: [
    [1, 4],
    [1.5, 4],
    [3, 5],
    [9, 8],
  ],
  overheadMs: [0.5, 0.5, 0.75, 1],
};

describe('batch-time model', () => {
  test('sizes measured: 1, 2, then x4, always ending at the serving batch', () => {
    expect(batchSizesUpTo(1)).toEqual([1]);
    expect(batchSizesUpTo(2)).toEqual([1, 2]);
    expect(batchSizesUpTo(16)).toEqual([1, 2, 8, 16]);
    expect(batchSizesUpTo(32)).toEqual([1, 2, 8, 32]);
    expect(batchSizesUpTo(64)).toEqual([1, 2, 8, 32, 64]);
    expect(() => batchSizesUpTo(0)).toThrow(/batch size/);
  });

  test('a stage over n rows: the measured time at a measured size, linear between sizes, no rows no time', () => {
    expect(stageMsAt(TIMES, 0, 8)).toBe(3);
    expect(stageMsAt(TIMES, 0, 5)).toBe(2.25);
    expect(stageMsAt(TIMES, 1, 20)).toBe(6.5);
    expect(stageMsAt(TIMES, 1, 0)).toBe(0);
    expect(overheadMsAt(TIMES, 20)).toBe(0.875);
  });

  test('beyond the largest size, that size time per row times the rows: no further saving assumed', () => {
    expect(stageMsAt(TIMES, 0, 64)).toBe(18);
    expect(stageMsAt(TIMES, 1, 48)).toBe(12);
  });

  test('the seconds unit at a batch size: cumulative seconds per image of each exit', () => {
    const s = exitSecondsAt(TIMES, 8);
    expect(s[0]).toBeCloseTo(3 / 8 / 1000, 15);
    expect(s[1]).toBeCloseTo((3 + 5) / 8 / 1000, 15);
  });

  test("the one graph's table: its exit-1 time as stage 1, the rest of its full time spread as the chain spends it", () => {
    const chain: BatchTimes = {
      sizes: [1, 8],
      stageMs: [
        [1, 1, 2],
        [2, 2, 6],
      ],
      overheadMs: [0.5, 0.5],
    };
    const g = graphTimes(chain, [3, 5], [6, 13]);
    expect(g.stageMs).toEqual([
      [3, 1, 2],
      [5, 2, 6],
    ]);
    expect(g.overheadMs).toEqual([0, 0]);
  });

  test('noisy medians made monotone from 2 rows on; one row (its own sessions) left as measured', () => {
    const t = monotone({
      sizes: [1, 2, 8],
      stageMs: [
        [5, 1],
        [2, 3],
        [4, 2],
      ],
      overheadMs: [1, 0.5, 0.25],
    });
    expect(t.stageMs).toEqual([
      [5, 1],
      [2, 3],
      [4, 3],
    ]);
    expect(t.overheadMs).toEqual([1, 0.5, 0.5]);
  });
});

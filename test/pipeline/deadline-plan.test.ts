/**
 * The deadline planner on its own (no model, no clock): a made-up machine whose every stage takes
 * 1 + 0.25 n ms over n rows, and 0.5 ms around each run. Times are sums of powers of two, so the
 * arithmetic is exact.
 */
import type { BatchTimes } from '../../src/engine';
import { ArrivalWindow, DeadlinePlanner } from '../../src/pipeline/deadline-plan';

const STAGES = 4;
const SIZES = [1, 2, 8, 32];
const TIMES: BatchTimes = {
  sizes: SIZES,
  stageMs: SIZES.map((n) => new Array<number>(STAGES).fill(1 + 0.25 * n)),
  overheadMs: SIZES.map(() => 0.5),
};

/** Milliseconds of n rows all through stages 0..l on the made-up machine. */
const batchMs = (n: number, l: number): number => 0.5 + (l + 1) * (1 + 0.25 * n);

const planner = (marginMs = 0): DeadlinePlanner => new DeadlinePlanner({ stages: TIMES, graph: undefined }, { marginMs });
const rows = (n: number, l: number): number[] => Array.from({ length: STAGES }, (_, s) => (s <= l ? n : 0));

describe('deadline planner', () => {
  test('one row gets the deepest exit whose batch ends by its deadline, the margin kept', () => {
    expect(batchMs(1, 2)).toBe(4.25);
    expect(batchMs(1, 3)).toBe(5.5);
    expect(Array.from(planner().caps([5.4]))).toEqual([2]);
    expect(Array.from(planner().caps([5.5]))).toEqual([3]);
    expect(Array.from(planner(2).caps([7.4]))).toEqual([2]);
    expect(Array.from(planner(2).caps([7.5]))).toEqual([3]);
  });

  test('a batch of n rows takes its measured time, not n times one row: 8 rows with 10 ms left reach exit 3', () => {
    // n x one row's time would be 8 x 1.25 ms per stage: not even exit 1 in 10 ms.
    expect(batchMs(8, 2)).toBe(9.5);
    expect(Array.from(planner().caps(new Array<number>(8).fill(10)))).toEqual(new Array<number>(8).fill(2));
    // Between measured sizes the time is linear: 5 rows take 2.25 ms per stage.
    expect(planner().profileMs(rows(5, 1))).toBe(0.5 + 2 * 2.25);
  });

  test('rows of one batch are answered together: the tightest on-time deadline sets the depth for all', () => {
    // Two rows through stages 0..2: 0.5 + 3 x 1.5 = 5 ms.
    expect(Array.from(planner().caps([5, 100]))).toEqual([2, 2]);
    expect(Array.from(planner().caps([4.9, 100]))).toEqual([1, 1]);
  });

  test('a row too late even for exit 1 stays at exit 1 and does not hold the others back', () => {
    // Both at exit 1: 0.5 + 1.5 = 2 ms; the first row has 1 ms left.
    const caps = planner().caps([1, 20]);
    expect(Array.from(caps)).toEqual([0, 3]);
    // The late row runs stage 0 only: 0.5 + 1.5 + 3 x 1.25 ms.
    expect(planner().profileMs([2, 1, 1, 1])).toBe(5.75);
  });

  test('rows without a deadline are never capped, and count in the batch time of those with one', () => {
    expect(Array.from(planner().caps([undefined, undefined]))).toEqual([3, 3]);
    // With the other row through every stage: 0.5 + 1.5 + 3 x 1.25 = 5.75 ms at exit 1, 6.25 ms at exit 3, 6.5 ms at exit 4.
    expect(Array.from(planner().caps([undefined, 6.5]))).toEqual([3, 3]);
    expect(Array.from(planner().caps([undefined, 6.4]))).toEqual([3, 2]);
    expect(Array.from(planner().caps([undefined, 5.7]))).toEqual([3, 0]);
  });

  test('rows waiting behind keep the time they need for exit 1; rows that cannot make it set no limit', () => {
    const alone = Array.from(planner().caps([8]));
    expect(alone).toEqual([3]);
    // Eight rows behind, due in 8 ms: exit 1 for them takes 3.5 ms, so this batch must end by 4.5 ms.
    expect(Array.from(planner().caps([8], new Array<number>(8).fill(8)))).toEqual([2]);
    // Due in 3 ms: they are late whatever this batch does.
    expect(Array.from(planner().caps([8], new Array<number>(8).fill(3)))).toEqual([3]);
  });

  test('runs slower than the profile make the plan slower once they are most of the recent runs; exact ones leave it alone', () => {
    const p = planner();
    for (let i = 0; i < 50; i++) p.observe(rows(1, 3), batchMs(1, 3), 'stages');
    expect(p.factor(1)).toBe(1);
    expect(p.slackMs('stages')).toBe(0);
    expect(Array.from(p.caps([5.5]))).toEqual([3]);
    for (let i = 0; i < 20; i++) p.observe(rows(1, 3), 2 * batchMs(1, 3), 'stages');
    expect(p.factor(1)).toBeCloseTo(2, 12);
    expect(Array.from(p.caps([5.5]))).toEqual([0]);
    // Faster again: the loaded runs leave the window.
    for (let i = 0; i < 32; i++) p.observe(rows(1, 3), batchMs(1, 3) / 2, 'stages');
    expect(p.factor(1)).toBeCloseTo(0.5, 12);
  });

  test('after a loaded period a burst gets the deepest exit the machine now runs in time, not exit 1 (the over-cut)', () => {
    const p = planner();
    // A loaded period: 200 runs at 4 x the profile; then 40 runs at the profile's pace.
    for (let i = 0; i < 200; i++) p.observe(rows(8, 1), 4 * batchMs(8, 1), 'stages');
    for (let i = 0; i < 40; i++) p.observe(rows(8, 1), batchMs(8, 1), 'stages');
    // 8 rows with 10 ms left: exit 3 ends at 9.5 ms on this pace, exit 4 at 12.5 ms.
    expect(Array.from(p.caps(new Array<number>(8).fill(10)))).toEqual(new Array<number>(8).fill(2));
  });

  test('a rare stall adds milliseconds, not a ratio: one run in 20 stalled by 20 ms leaves a large batch its depth', () => {
    const p = planner();
    // Single rows (5.5 ms at exit 4), every 20th stalled by 20 ms (x4.6 as a ratio).
    for (let i = 0; i < 200; i++) p.observe(rows(1, 3), batchMs(1, 3) + (i % 20 === 19 ? 20 : 0), 'stages');
    expect(p.slackMs('stages')).toBe(0);
    expect(Array.from(p.caps(new Array<number>(8).fill(10)))).toEqual(new Array<number>(8).fill(2));
  });

  test('runs that often take longer than their corrected profile add that much to every prediction (90th percentile over the last 64 runs)', () => {
    const p = planner();
    // One run in four takes 2 ms more: the median is exact, the 90th percentile 2 ms beyond.
    for (let i = 0; i < 64; i++) p.observe(rows(1, 3), batchMs(1, 3) + (i % 4 === 3 ? 2 : 0), 'stages');
    expect(p.factor(1)).toBe(1);
    expect(p.slackMs('stages')).toBe(2);
    expect(p.predictMs(rows(8, 2))).toBe(batchMs(8, 2) + 2);
    // 8 rows with 10 ms left: exit 3 would end at 11.5 ms, exit 2 at 8.5 ms.
    expect(Array.from(p.caps(new Array<number>(8).fill(10)))).toEqual(new Array<number>(8).fill(1));
  });

  test('the slack is counted once between a batch and the rows after it: a stall is not planned for in both runs', () => {
    const p = planner();
    // One run in four 1 ms beyond its profile: factor 1, slack 1 ms.
    for (let i = 0; i < 64; i++) p.observe(rows(1, 3), batchMs(1, 3) + (i % 4 === 3 ? 1 : 0), 'stages');
    expect(p.factor(1)).toBe(1);
    expect(p.slackMs('stages')).toBe(1);
    // Steady arrivals, one per ms, due 13 ms after arrival. Exit 3: 4.25 + 1 ms, then the 5.25 rows that came
    // meanwhile 0.5 + 3 x 2.3125 ms: 12.69 <= 13 (13.69 with the slack twice). Exit 4: 6.5 + 11 > 13.
    expect(Array.from(p.caps([100], [], { perMs: 1, deadlineMs: 13 }))).toEqual([2]);
    // Eight rows behind due in 8 ms: their exit 1 takes 3.5 ms, so this row's batch ends by 4.5 ms: exit 2 (3 + 1 ms).
    expect(Array.from(p.caps([100], new Array<number>(8).fill(8)))).toEqual([1]);
  });

  test("each path keeps its own slack: stalls of single rows on the chain leave the graph's batches their depth", () => {
    const graph: BatchTimes = { sizes: SIZES, stageMs: SIZES.map(() => [2, 0.5, 0.5, 0.5]), overheadMs: SIZES.map(() => 0) };
    const p = new DeadlinePlanner({ stages: TIMES, graph }, { marginMs: 0 });
    // The graph's runs as profiled; one single-row chain run in three (a burst's first row) stalled by 20 ms.
    for (let i = 0; i < 60; i++) {
      p.observe(rows(8, 3), 3.5, 'graph');
      p.observe(rows(1, 3), batchMs(1, 3) + (i % 3 === 0 ? 20 : 0), 'stages');
    }
    expect(p.slackMs('stages')).toBe(20);
    expect(p.slackMs('graph')).toBe(0);
    // 8 rows with 3 ms left on the graph: exit 3 (3 ms), as with no stall anywhere.
    expect(Array.from(p.caps(new Array<number>(8).fill(3)))).toEqual(new Array<number>(8).fill(2));
  });

  test("until a size has run, the graph is expected from the model's measured crossover (graphFrom), not from 2 rows", () => {
    const graph: BatchTimes = { sizes: SIZES, stageMs: SIZES.map(() => [2, 0.5, 0.5, 0.5]), overheadMs: SIZES.map(() => 0) };
    const p = new DeadlinePlanner({ stages: TIMES, graph }, { marginMs: 0, graphFrom: 4 });
    expect([1, 2, 3, 4, 8].map((n) => p.pathFor(n))).toEqual(['stages', 'stages', 'stages', 'graph', 'graph']);
    p.observe(rows(2, 3), batchMs(2, 3), 'graph');
    expect(p.pathFor(2)).toBe('graph');
  });

  test('each batch-size class learns its own correction once it has runs; until then the one over all runs', () => {
    const p = planner();
    for (let i = 0; i < 10; i++) p.observe(rows(1, 3), 3 * batchMs(1, 3), 'stages');
    const learned = p.factor(1);
    expect(learned).toBeCloseTo(3, 12);
    expect(p.factor(8)).toBe(learned);
    for (let i = 0; i < 32; i++) p.observe(rows(8, 3), batchMs(8, 3), 'stages');
    expect(p.factor(8)).toBe(1);
    expect(p.factor(1)).toBe(learned);
  });

  test('a batch is planned with the times of the engine path it is expected to take: the one graph from 2 rows, else the path its size took last', () => {
    // A graph whose exit 1 costs 2 ms at any size (its fixed part), and each later stage 0.5 ms.
    const graph: BatchTimes = { sizes: SIZES, stageMs: SIZES.map(() => [2, 0.5, 0.5, 0.5]), overheadMs: SIZES.map(() => 0) };
    const p = new DeadlinePlanner({ stages: TIMES, graph }, { marginMs: 0 });
    expect(p.pathFor(1)).toBe('stages');
    expect(p.pathFor(8)).toBe('graph');
    // 8 rows with 3 ms left: exit 3 on the graph (3 ms), where the chain would not even reach exit 2 (6.5 ms).
    expect(Array.from(p.caps(new Array<number>(8).fill(3)))).toEqual(new Array<number>(8).fill(2));
    p.observe(rows(8, 3), batchMs(8, 3), 'stages');
    expect(p.pathFor(8)).toBe('stages');
    expect(Array.from(p.caps(new Array<number>(8).fill(3)))).toEqual(new Array<number>(8).fill(0));
  });

  test('under steady arrivals a batch leaves the rows arriving while it runs the time to go as deep after it', () => {
    // One row arriving per ms, due 12 ms after arrival. Exit 3: this batch 4.25 ms, then the 4.25 rows that came
    // meanwhile 0.5 + 3 x 2.0625 ms: 10.94 <= 12. Exit 4: 5.5 + 10 = 15.5 > 12.
    expect(Array.from(planner().caps([100], [], { perMs: 1, deadlineMs: 12 }))).toEqual([2]);
    expect(Array.from(planner().caps([100], [], { perMs: 0, deadlineMs: 12 }))).toEqual([3]);
    expect(Array.from(planner().caps([100]))).toEqual([3]);
  });

  test('the arrival window counts the rows of earlier batches over the last 500 ms', () => {
    const w = new ArrivalWindow(500);
    expect(w.perMs(0)).toBe(0);
    for (let t = 0; t < 10; t++) w.add(t);
    expect(w.perMs(100)).toBe(10 / 500);
    expect(w.perMs(505)).toBe(5 / 500);
    expect(w.perMs(1000)).toBe(0);
  });
});

/** The budget sparkline's paths: spread over the width, scaled to the target, broken where no image came. */
import { SPARK_HEIGHT, SPARK_WIDTH, sparkPaths } from '../../../../src/server/status-page/client/sparkline-path';

test('a gap (null) lifts the pen; the points spread over the whole width', () => {
  const { line } = sparkPaths([0.5, 0.5, null, 0.5], 0.5);
  const moves = line.match(/[ML][\d.]+ [\d.]+/g) ?? [];
  expect(moves.map((m) => m[0])).toEqual(['M', 'L', 'M']);
  expect(moves.map((m) => Number(m.slice(1).split(' ')[0]))).toEqual([0, SPARK_WIDTH / 3, SPARK_WIDTH]);
});

test('the scale tops at 1.4 times the target (or 1.1 times the highest point), and never above 1', () => {
  const y = (path: string): number => Number(/ ([\d.]+)/.exec(path)?.[1]);
  // Paths carry one decimal: within 0.05 of the exact height.
  const near = (got: number, want: number): void => expect(Math.abs(got - want)).toBeLessThanOrEqual(0.05 + 1e-9);
  // Target 0.5 -> top 0.7: the target line sits at 0.5/0.7 of the drawable height.
  near(y(sparkPaths([0.2], 0.5).goal), SPARK_HEIGHT - 2 - ((SPARK_HEIGHT - 4) * 0.5) / 0.7);
  // A point at 0.9 lifts the top to min(1, 0.99): it sits just under the top edge.
  near(y(sparkPaths([0.9], 0.5).line), SPARK_HEIGHT - 2 - ((SPARK_HEIGHT - 4) * 0.9) / 0.99);
  // Target 0.9 would scale to 1.26: capped at 1, the target line is at 0.9 of the height.
  near(y(sparkPaths([], 0.9).goal), SPARK_HEIGHT - 2 - (SPARK_HEIGHT - 4) * 0.9);
  expect(sparkPaths([null, null], 0.5).line).toBe('');
});

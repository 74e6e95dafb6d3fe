/** The sparkline's SVG paths from its points (no DOM): a line with gaps where no image came, and the target. */

export const SPARK_WIDTH = 600;
export const SPARK_HEIGHT = 56;

export function sparkPaths(points: ReadonlyArray<number | null>, target: number): { line: string; goal: string } {
  const W = SPARK_WIDTH;
  const H = SPARK_HEIGHT;
  const drawn = points.filter((p): p is number => p !== null);
  const top = Math.min(1, Math.max(target * 1.4, ...drawn.map((p) => p * 1.1)));
  const y = (r: number): string => (H - 2 - ((H - 4) * r) / top).toFixed(1);
  // Spread over the width whatever the count, so a young page draws a readable line too.
  const x = (i: number): string => ((W * i) / Math.max(1, points.length - 1)).toFixed(1);
  let line = '';
  let pen = false;
  points.forEach((p, i) => {
    if (p === null) pen = false;
    else {
      line += (pen ? 'L' : 'M') + x(i) + ' ' + y(p);
      pen = true;
    }
  });
  return { line, goal: 'M0 ' + y(target) + 'H' + W };
}

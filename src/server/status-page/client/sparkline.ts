/**
 * The recent realised ratio at each of the last 120 polls against the target: the budget, live. Decorative
 * (the legend says the same in words), so hidden from assistive technology.
 */
import { SPARK_HEIGHT, SPARK_WIDTH, sparkPaths } from './sparkline-path';

const SVG = 'http://www.w3.org/2000/svg';
const POINTS = 120;

export interface Sparkline {
  svg: SVGSVGElement;
  /** Adds the latest poll's recent realised ratio (null: no image in the window) and redraws. */
  push(realised: number | null, target: number): void;
}

export function sparkline(): Sparkline {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('viewBox', '0 0 ' + SPARK_WIDTH + ' ' + SPARK_HEIGHT);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('aria-hidden', 'true');
  const line = document.createElementNS(SVG, 'path');
  line.setAttribute('class', 'realised');
  const goal = document.createElementNS(SVG, 'path');
  goal.setAttribute('class', 'target');
  svg.append(goal, line);
  const points: Array<number | null> = [];
  const push = (realised: number | null, target: number): void => {
    points.push(realised);
    if (points.length > POINTS) points.shift();
    const d = sparkPaths(points, target);
    line.setAttribute('d', d.line);
    goal.setAttribute('d', d.goal);
  };
  return { svg, push };
}

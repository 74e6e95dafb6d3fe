import { validateCosts } from '../budget';

/**
 * The most accurate any rule can be at an average cost <= budget, knowing
 * the labels: a row is right for the cost of its first correct exit, and
 * every row pays at least exit 0. Sending the rows with the cheapest extra
 * cost (first correct exit minus exit 0) first is optimal, since each right
 * row counts one. The gap between it and a rule is what a better score
 * could still gain.
 */
export interface BudgetedOracle {
  accuracy: number;
  averageCost: number;
}

export function budgetedOracle(
  predictions: readonly Int32Array[],
  labels: Int32Array,
  costs: ArrayLike<number>,
  budget: number,
): BudgetedOracle {
  const c = validateCosts(costs, predictions.length);
  const n = labels.length;
  const base = c[0] as number;
  const extra: number[] = [];
  let right = 0;
  for (let i = 0; i < n; i++) {
    let l = 0;
    while (l < predictions.length && (predictions[l] as Int32Array)[i] !== labels[i]) l++;
    if (l === 0) right++;
    else if (l < predictions.length) extra.push((c[l] as number) - base);
  }
  extra.sort((a, b) => a - b);
  let spent = base * n;
  for (const e of extra) {
    if (spent + e > budget * n) break;
    spent += e;
    right++;
  }
  return { accuracy: right / n, averageCost: spent / n };
}

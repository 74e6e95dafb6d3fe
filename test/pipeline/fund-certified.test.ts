import type { RouteChoice } from '../../src/pipeline/model-routing';
import type { RowMeta } from '../../src/pipeline/row-meta';
import { fundCertified } from '../../src/pipeline/run-batch';

const costs = Float64Array.from([1, 2, 4, 8]);
const row = (rule: RouteChoice['rule'], allowUncertified = false): RowMeta => ({
  choice: { rule, allowUncertified } as RouteChoice,
  key: 0,
  topk: 1,
  trace: false,
  arrivedAt: 0,
});

describe('paying certified rows up front', () => {
  it('pays certified rows to their cap in row order while the pool holds, after exit 1 for every row', () => {
    const metas = [row('eero'), row('certified'), row('certified'), row('certified')];
    const caps = Int32Array.from([3, 3, 2, 3]);
    // 4 rows pay exit 1 (4); left 12: row 1 needs 7 (paid, 5 left), row 2 needs 3 (paid, 2 left), row 3 needs 7 (not).
    const f = fundCertified(metas, caps, 16, costs);
    expect(Array.from(f.exempt)).toEqual([0, 1, 1, 0]);
    expect(f.prepaid).toBe(10);
    // Never more than the pool holds after exit 1.
    expect(f.prepaid).toBeLessThanOrEqual(16 - 4);
  });

  it('leaves rows that allow uncertified answers, and other rules, to the grant', () => {
    const f = fundCertified([row('certified', true), row('accuracy-target'), row('pinned')], Int32Array.from([3, 3, 3]), 100, costs);
    expect(Array.from(f.exempt)).toEqual([0, 0, 0]);
    expect(f.prepaid).toBe(0);
  });
});

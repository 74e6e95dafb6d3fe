import fc from 'fast-check';
import { buildResult, topK, type RowOutcome } from '../../src/pipeline/results';
import { softmaxRow } from '../../src/router';

const LABELS = ['a', 'b', 'c', 'd', 'e', 'f'];

/** The order topK promises, by a full sort: most probable first, the lower class index first on a tie. */
function sortedTopK(probs: Float64Array, k: number): number[] {
  return Array.from(probs.keys())
    .sort((a, b) => (probs[b] as number) - (probs[a] as number) || a - b)
    .slice(0, Math.max(1, Math.min(k, probs.length)));
}

describe('topK', () => {
  it('gives the k most probable classes, ties to the lower index, exactly as a full sort would', () => {
    // Few distinct values, so that ties are common.
    const probs = fc.array(fc.constantFrom(0, 0.05, 0.1, 0.25, 0.5), { minLength: 1, maxLength: 6 }).map((a) => Float64Array.from(a));
    fc.assert(
      fc.property(probs, fc.integer({ min: 0, max: 8 }), (p, k) => {
        const got = topK(p, LABELS, k);
        expect(got.map((e) => e.classIndex)).toEqual(sortedTopK(p, k));
        for (const e of got) expect([e.label, e.probability]).toEqual([LABELS[e.classIndex], p[e.classIndex]]);
      }),
    );
  });
});

describe('buildResult', () => {
  const ctx = { labels: LABELS, costs: Float64Array.from([1, 2, 4, 8, 16, 32]), macs: Float64Array.from([10, 20, 40, 80, 160, 320]) };
  const logits = Float32Array.from([0.3, -1, 2.5, 2.5, 0, 1, /* row 2 */ 4, 3, 2, 1, 0, -1]);
  const outcome = (offset: number, probs?: Float64Array): RowOutcome => ({
    exit: 2,
    prediction: 3,
    stoppedBy: 'confidence',
    logits,
    offset,
    topk: 3,
    thresholdsVersion: 7,
    certifiedRule: true,
    probs,
  });

  it('answers the same from a softmax the path already has as from the logits', () => {
    for (const offset of [0, 6]) {
      const probs = softmaxRow(logits, offset, 6);
      expect(buildResult(outcome(offset, probs), ctx)).toEqual(buildResult(outcome(offset), ctx));
    }
  });

  it('states the exit, its costs and why the row stopped', () => {
    const r = buildResult(outcome(0), ctx);
    expect(r).toMatchObject({
      label: 'd',
      classIndex: 3,
      exit: 3,
      exits: 6,
      macs: 40,
      costFraction: 4 / 32,
      forced: false,
      certified: true,
    });
    // A tie between c and d at the top: the lower index first.
    expect(r.topk.map((t) => t.label)).toEqual(['c', 'd', 'f']);
    expect(buildResult({ ...outcome(0), stoppedBy: 'ledger' }, ctx)).toMatchObject({ forced: true, certified: false });
  });
});

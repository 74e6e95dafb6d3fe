import { computeExitScores, scoreRow, softmaxRow, TIE_NOISE, resolveScoring } from '../../src/router';
import { scoreProbs } from '../../src/router/scores';
import { syntheticOutputs } from './synthetic';

describe('softmaxRow', () => {
  it('stays finite for huge logits and equals the shifted softmax', () => {
    const big = softmaxRow([1000, 1001, 1002], 0, 3);
    const small = softmaxRow([0, 1, 2], 0, 3);
    expect(Array.from(big).every(Number.isFinite)).toBe(true);
    big.forEach((p, i) => expect(p).toBeCloseTo(small[i] as number, 14));
    expect(big.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
    // e^0 : e^1 : e^2
    expect(small[0]).toBeCloseTo(1 / (1 + Math.E + Math.E ** 2), 14);
  });

  it('reads one row at an offset and applies the temperature', () => {
    const p = softmaxRow([9, 9, 0, Math.log(4)], 2, 2, 2, new Float32Array(2));
    expect(p).toBeInstanceOf(Float32Array);
    expect(p[0]).toBeCloseTo(1 / 3, 6);
    expect(p[1]).toBeCloseTo(2 / 3, 6);
  });
});

describe('scoreProbs', () => {
  const p = [0.2, 0.5, 0.3];
  it('margin is top-1 minus top-2', () => expect(scoreProbs(p, 'margin')).toBeCloseTo(0.2, 14));
  it('maxprob is the top probability', () => expect(scoreProbs(p, 'maxprob')).toBe(0.5));
  it('entropy is negated so that surer is larger', () => {
    expect(scoreProbs(p, 'entropy')).toBeCloseTo(0.5 * Math.log(0.5) + 0.3 * Math.log(0.3) + 0.2 * Math.log(0.2), 14);
    expect(scoreProbs([1, 0, 0], 'entropy')).toBe(0);
    expect(scoreProbs([0.9, 0.05, 0.05], 'entropy')).toBeGreaterThan(scoreProbs(p, 'entropy'));
  });
  it('margin of a two-way tie is zero before noise', () => expect(scoreProbs([0.4, 0.4, 0.2], 'margin')).toBe(0));
});

describe('tie-breaking noise', () => {
  const flat = [0.25, 0.25, 0.25, 0.25];
  const scoring = resolveScoring({ seed: 3 });

  it('breaks an exact tie the same way every time for a seed and row', () => {
    const a = scoreRow(flat, 1, 17, scoring);
    const b = scoreRow(flat, 1, 17, scoring);
    expect(a).toEqual(b);
    expect(a.score).toBeGreaterThan(0);
    expect(a.score).toBeLessThan(TIE_NOISE);
  });

  it('spreads tied predictions over the classes instead of picking the first', () => {
    const seen = new Set<number>();
    for (let key = 0; key < 200; key++) seen.add(scoreRow(flat, 0, key, scoring).prediction);
    expect(seen).toEqual(new Set([0, 1, 2, 3]));
  });

  it('changes with the seed', () => {
    const other = resolveScoring({ seed: 4 });
    let differ = 0;
    for (let key = 0; key < 50; key++)
      if (scoreRow(flat, 0, key, scoring).prediction !== scoreRow(flat, 0, key, other).prediction) differ++;
    expect(differ).toBeGreaterThan(10);
  });

  it('moves a score by less than the noise bound and leaves the input untouched', () => {
    const p = [0.7, 0.2, 0.1];
    const r = scoreRow(p, 0, 5, resolveScoring({ score: 'maxprob' }));
    expect(p).toEqual([0.7, 0.2, 0.1]);
    expect(r.score - 0.7).toBeGreaterThanOrEqual(0);
    expect(r.score - 0.7).toBeLessThan(TIE_NOISE);
  });
});

describe('computeExitScores', () => {
  it('gives row i the same score and prediction as scoring that row alone with key i', () => {
    const o = syntheticOutputs({ images: 50, seed: 1, classes: 5 });
    const scoring = resolveScoring({ score: 'entropy', seed: 9, temperature: 1.5 });
    const s = computeExitScores(o, scoring);
    for (const i of [0, 13, 49]) {
      for (let l = 0; l < o.exits; l++) {
        const probs = softmaxRow(o.logits[l] as Float32Array, i * 5, 5, 1.5);
        const r = scoreRow(probs, l, i, scoring);
        expect(s.scores[l]?.[i]).toBe(r.score);
        expect(s.predictions[l]?.[i]).toBe(r.prediction);
      }
    }
  });

  it('refuses outputs whose arrays do not match their shape', () => {
    const o = syntheticOutputs({ images: 4, seed: 1 });
    expect(() => computeExitScores({ ...o, images: 5 })).toThrow(expect.objectContaining({ code: 'BAD_PARAMETER' }));
    expect(() => computeExitScores(o, { temperature: 0 })).toThrow(expect.objectContaining({ code: 'BAD_PARAMETER' }));
  });
});

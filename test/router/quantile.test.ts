import { countAtLeast, thresholdForShare } from '../../src/router/quantile';
import { sortedRamp } from './synthetic';

describe('thresholdForShare', () => {
  const s = Float64Array.from([0.1, 0.2, 0.3]);

  it('returns +Infinity for a share of 0 (nobody leaves)', () => {
    expect(thresholdForShare(s, 0)).toBe(Infinity);
    expect(thresholdForShare(s, 0.3)).toBe(Infinity); // floor(0.9) = 0 images
  });

  it('returns -Infinity for a share of 1 (everyone leaves)', () => {
    expect(thresholdForShare(s, 1)).toBe(-Infinity);
    expect(thresholdForShare(s, 1.5)).toBe(-Infinity);
  });

  it('is the k-th largest value, letting exactly floor(share * N) pass', () => {
    expect(thresholdForShare(s, 0.34)).toBe(0.3);
    expect(thresholdForShare(s, 0.67)).toBe(0.2);
    const ramp = sortedRamp(100);
    for (const share of [0.05, 0.3, 0.62, 0.99]) {
      expect(countAtLeast(ramp, thresholdForShare(ramp, share))).toBe(Math.floor(share * 100 + 1e-9));
    }
  });

  it('does not lose an image to float error in share * N', () => {
    const ramp = sortedRamp(10);
    // 0.7 * 10 is 7.000000000000001 and 0.3 * 10 is 3.0000000000000004; both mean 7 and 3.
    expect(countAtLeast(ramp, thresholdForShare(ramp, 0.7))).toBe(7);
    expect(countAtLeast(ramp, thresholdForShare(ramp, 1 - 0.7))).toBe(3);
  });

  it('lets fewer pass, never more, when ties straddle the cut', () => {
    const tied = Float64Array.from([0.1, 0.2, 0.2, 0.3]);
    expect(thresholdForShare(tied, 0.5)).toBe(0.3);
    expect(countAtLeast(tied, 0.3)).toBe(1);
    expect(thresholdForShare(tied, 0.75)).toBe(0.2);
    expect(countAtLeast(tied, 0.2)).toBe(3);
  });

  it('lets nobody pass when all scores are equal, unless the share is 1', () => {
    const same = new Float64Array(5).fill(0.4);
    expect(thresholdForShare(same, 0.2)).toBe(Infinity);
    expect(thresholdForShare(same, 0.99)).toBe(Infinity);
    expect(thresholdForShare(same, 1)).toBe(-Infinity);
  });

  it('handles one image and no images', () => {
    const one = Float64Array.from([0.5]);
    expect(thresholdForShare(one, 0.99)).toBe(Infinity);
    expect(thresholdForShare(one, 1)).toBe(-Infinity);
    expect(thresholdForShare(new Float64Array(0), 0.5)).toBe(Infinity);
  });
});

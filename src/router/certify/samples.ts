/**
 * How many calibration images a Learn-then-Test guarantee needs at all: with
 * no loss on any test image the binomial p-value is (1 - alpha)^n, so the
 * test half must hold at least log(delta) / log(1 - alpha) images before any
 * thresholds can be certified (0.99 agreement at delta 0.05: 299 test images,
 * 598 in all with half of them on the path).
 */
export function certifiedTestImagesNeeded(alpha: number, delta: number): number {
  return Math.ceil(Math.log(delta) / Math.log1p(-alpha));
}

/** Calibration images in all, with `pathShare` of them used to build the path. */
export function certifiedSamplesNeeded(guarantee: { agreement?: number; accuracyDrop?: number; delta?: number }, pathShare = 0.5): number {
  const alpha = guarantee.agreement !== undefined ? 1 - guarantee.agreement : (guarantee.accuracyDrop ?? NaN);
  const needed = certifiedTestImagesNeeded(alpha, guarantee.delta ?? 0.05);
  return Math.ceil(needed / (1 - pathShare));
}

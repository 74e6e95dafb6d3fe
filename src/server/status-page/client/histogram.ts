/** Histogram arithmetic over two polls, as PromQL's increase() and histogram_quantile() do it (no DOM). */
import { parseValue, type Snapshot } from './prometheus';

export interface Bucket {
  le: number;
  count: number;
}

export interface Quantile {
  seconds: number;
  /** In the +Inf bucket: all that is known is "above the highest bound" (seconds is that bound). */
  above: boolean;
}

/** histogram_quantile over cumulative buckets: linear inside the bucket holding the rank. */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): Quantile | undefined {
  const bs = buckets.slice().sort((a, b) => a.le - b.le);
  const last = bs[bs.length - 1];
  if (!last || last.le !== Infinity || !(last.count > 0)) return undefined;
  const rank = q * last.count;
  let lowerLe = 0;
  let lowerCount = 0;
  for (const b of bs) {
    if (b.count >= rank) {
      // Prometheus returns the highest finite bound for a rank in the +Inf bucket.
      if (b.le === Infinity) return { seconds: lowerLe, above: true };
      const inside = b.count - lowerCount;
      return { seconds: inside > 0 ? lowerLe + ((b.le - lowerLe) * (rank - lowerCount)) / inside : b.le, above: false };
    }
    lowerLe = b.le;
    lowerCount = b.count;
  }
  return undefined;
}

/** Per-le increase of a histogram's buckets between two polls, summed over the series keep() accepts. */
export function bucketIncrease(
  prev: Snapshot | null,
  cur: Snapshot,
  name: string,
  keep: (labels: Record<string, string>) => boolean,
): Bucket[] {
  const byLe = new Map<number, number>();
  const add = (snap: Snapshot, sign: number): void => {
    for (const s of snap.byName.get(name + '_bucket') ?? []) {
      if (!keep(s.labels)) continue;
      const le = parseValue(s.labels.le);
      byLe.set(le, (byLe.get(le) || 0) + sign * s.value);
    }
  };
  add(cur, 1);
  if (prev) add(prev, -1);
  return [...byLe].map(([le, count]) => ({ le, count: Math.max(0, count) }));
}

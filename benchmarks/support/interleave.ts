/**
 * Speed as ratios within one run: every repetition runs each variant once,
 * in a rotated order, so that drift (other load, thermal, caches) hits all
 * variants alike; ratios are taken within a repetition, then the median.
 */
import { median } from './format';

export interface Variant<T> {
  name: string;
  /** One measured pass; returns what the caller wants to keep (e.g. realised MACs). */
  run: () => Promise<T>;
}

export interface Timed<T> {
  name: string;
  /** Seconds of each repetition. */
  seconds: number[];
  last: T;
}

export async function interleave<T>(variants: Variant<T>[], reps: number): Promise<Map<string, Timed<T>>> {
  const out = new Map<string, Timed<T>>(variants.map((v) => [v.name, { name: v.name, seconds: [], last: undefined as T }]));
  for (let r = 0; r < reps; r++) {
    const order = variants.map((_, i) => variants[(i + r) % variants.length] as Variant<T>);
    for (const v of order) {
      const t0 = performance.now();
      const value = await v.run();
      const timed = out.get(v.name) as Timed<T>;
      timed.seconds.push((performance.now() - t0) / 1000);
      timed.last = value;
    }
  }
  return out;
}

/** Median over repetitions of time(reference) / time(variant): the speed-up of the variant. */
export function speedup<T>(reference: Timed<T>, variant: Timed<T>): number {
  return median(variant.seconds.map((s, i) => (reference.seconds[i] as number) / s));
}

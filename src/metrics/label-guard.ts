import type { LabelName } from './names';

/** The value a label takes once its set of distinct values is full. */
export const OVERFLOW_LABEL_VALUE = 'other';

export interface LabelGuard {
  /** `value` itself while the label has fewer than `limit` distinct values (or already has this one), else "other". */
  bound(label: LabelName, value: string): string;
}

/**
 * A cardinality fuse: a caller that passes a path or an id by mistake gets
 * one "other" series instead of an unbounded number of them.
 */
export function createLabelGuard(limit: number, onOverflow?: (label: LabelName, value: string) => void): LabelGuard {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`label value limit must be a positive integer, got ${limit}`);
  const seen = new Map<LabelName, Set<string>>();
  return {
    bound(label, value) {
      let values = seen.get(label);
      if (values === undefined) {
        values = new Set();
        seen.set(label, values);
      }
      if (values.has(value)) return value;
      if (values.size >= limit) {
        onOverflow?.(label, value);
        return OVERFLOW_LABEL_VALUE;
      }
      values.add(value);
      return value;
    },
  };
}

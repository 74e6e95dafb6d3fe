/**
 * The last few values of a series and a quantile of them: what the deadline planner learns the
 * machine's pace from. A window forgets a loaded period once that many runs have followed it, in
 * either direction, where a running quantile stepped per run would take hundreds of runs to come down.
 */
export class RecentValues {
  private readonly values: number[] = [];
  private next = 0;
  /** The window sorted, kept until the next value: the planner reads quantiles many times per batch. */
  private sorted: number[] | undefined;
  /** Values seen in all, including those the window has let go. */
  count = 0;

  constructor(private readonly size: number) {}

  add(value: number): void {
    if (this.values.length < this.size) this.values.push(value);
    else this.values[this.next] = value;
    this.next = (this.next + 1) % this.size;
    this.sorted = undefined;
    this.count++;
  }

  /** The q-quantile (0..1) of the values in the window, the lower one between two ranks; undefined when empty. */
  quantile(q: number): number | undefined {
    if (this.values.length === 0) return undefined;
    const sorted = (this.sorted ??= [...this.values].sort((a, b) => a - b));
    return sorted[Math.floor(q * (sorted.length - 1))];
  }
}

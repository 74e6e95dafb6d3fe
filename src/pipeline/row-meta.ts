/** What travels with one image through the batcher to the engine run. */
import type { RouteChoice } from './model-routing';

export interface RowMeta {
  choice: RouteChoice;
  /** Stable key of the image's seeded tie-breaking noise. */
  key: number;
  topk: number;
  trace: boolean;
  /** Clock time (ms) the image's request arrived: its deadline counts from here. */
  arrivedAt: number;
}

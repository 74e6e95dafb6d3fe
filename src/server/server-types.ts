/** What the HTTP app is built from (createApp's deps): tests build it with fakes, without a socket or an engine. */
import type { LimitsConfig } from '../config';
import type { EeroMetrics, MetricsRegistry } from '../metrics';
import type { ClassifyAnswer, ClassifyInput, ClassifyRequest } from '../pipeline';

export interface Logger {
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** A served model as /v1/models and the KServe metadata describe it. */
export interface ModelDescription {
  name: string;
  bundle: string;
  architecture: string | null;
  input: { channels: number; height: number; width: number; colorSpace: string };
  labels: readonly string[];
  costUnit: string;
  exits: Array<{ exit: number; macs: number; fraction: number; testAccuracy: number }>;
  fullMacs: number;
  /** B: requests may ask for this or less. */
  budget: { limit: number; source: string; ledger: boolean; rule: string };
  feasibleBudget: { min: number; max: number };
}

/** What the routes need of a model: its description and the one classify path. */
export interface ServedModel {
  readonly name: string;
  describe(): ModelDescription;
  classify(images: ReadonlyArray<ClassifyInput>, request: ClassifyRequest): Promise<ClassifyAnswer>;
  /** Warmed and able to answer. */
  readonly ready: boolean;
  /** How pixels become the model's input (value / scale - mean) / std per channel: v2 metadata tells clients that send tensors. */
  readonly normalisation?: { scale: number; mean: readonly number[]; std: readonly number[] };
  /** Label-free recalibration from the monitor's reservoir; absent when not offered. */
  recalibrate?(): Promise<{ version: number; samples: number; rebuilt: number; kept: Array<{ rule: string; samplesNeeded: number }> }>;
}

/** serving -> draining (not ready; still answering, so load balancers can stop routing) -> closing (503 SHUTTING_DOWN). */
export type Phase = 'serving' | 'draining' | 'closing';

export interface AppDeps {
  models: ReadonlyMap<string, ServedModel>;
  /** Used when a request names no model. */
  defaultModel: string;
  metrics: EeroMetrics;
  registry: MetricsRegistry;
  limits: LimitsConfig;
  logger: Logger;
  /** Milliseconds, monotonic (performance.now). */
  clock: () => number;
  phase: () => Phase;
  /** Bearer token for the admin routes; undefined disables them. */
  adminToken?: string;
}

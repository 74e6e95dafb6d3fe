import type { Phase } from './names';

/** The engine path a batch took (`failed`: the run threw). */
export type EnginePath = 'graph' | 'stages' | 'full' | 'failed';

/** The transport a request came by. */
export type Protocol = 'rest' | 'grpc';

/** Why an image was made to stop early (confidence is not counted here). */
export type ForcedReason = 'ledger' | 'deadline';

/** One image, as it left the network. */
export interface ImageRecord {
  model: string;
  /** 1-based exit index the image left at. */
  exit: number;
  /** MACs actually spent on this image (cumulative cost of its exit). */
  macs: number;
  /** Set when the ledger or a deadline, not confidence, made it exit. */
  forced?: ForcedReason;
}

/** One model's ledger, read at scrape time. */
export interface LedgerReading {
  model: string;
  /** Saved credit (B x images - spent), in MACs. */
  creditMacs: number;
  thresholdsVersion: number;
}

/** One model's queue depth (images waiting for a batch), read at scrape time. */
export interface QueueDepthReading {
  model: string;
  depth: number;
}

/** Agreement with the final exit, from the live monitor's samples, with Wilson 95% bounds. */
export interface AgreementReading {
  model: string;
  /** '1'...'M-1' for answers from that exit, 'all' for every answer. */
  exit: string;
  ratio: number;
  lower: number;
  upper: number;
}

export type LedgerSource = () => Iterable<LedgerReading>;
export type AgreementSource = () => Iterable<AgreementReading>;
export type QueueDepthSource = () => Iterable<QueueDepthReading>;

export interface MetricsOptions {
  /** Distinct values allowed per label before new ones become "other"; default 64. */
  labelValueLimit?: number;
  /** Histogram bucket overrides, in seconds (batch: images). */
  buckets?: {
    request?: readonly number[];
    phase?: readonly number[];
    stage?: readonly number[];
    batch?: readonly number[];
  };
  /** Told when a scrape-time source throws; the gauge is then left empty for that scrape. */
  onSourceError?: (metric: string, error: unknown) => void;
  /** Told when a label value is folded into "other". */
  onLabelOverflow?: (label: string, value: string) => void;
}

/**
 * The service's metrics, as methods. Callers never touch prom-client objects.
 * Numbers are in base units: seconds, MACs, ratios (1 = the full model).
 * Every series is per model: a requested budget is a histogram observation, never a label.
 * Invalid numbers (negative, NaN) are programming errors and throw RangeError.
 */
export interface EeroMetrics {
  recordImage(image: ImageRecord): void;
  /** The model's budget B as a fraction of the full model, and the full model's MACs per image. */
  setBudget(model: string, ratio: number, fullMacs: number): void;
  /** The budget a request asked for, as a fraction of the full model. */
  observeRequestedBudget(model: string, ratio: number): void;
  /** A new expensive routing rule: computed, refused by the per-client limit, or kept over a recalibration. */
  countRuleDerivation(model: string, result: 'computed' | 'refused' | 'kept'): void;
  /** One image asked with a deadline: whether its answer was ready by it. */
  recordDeadline(model: string, result: 'met' | 'missed'): void;
  /** One batch's reservation and what it really spent, in MACs. */
  recordReservation(model: string, reservedMacs: number, usedMacs: number): void;
  observePhase(model: string, phase: Phase, seconds: number): void;
  /** One engine stage run (1-based stage index), for a whole batch. */
  observeStage(model: string, stage: number, seconds: number): void;
  /**
   * One execution of the engine over `size` images, by the path it took: `graph` (the one early-exit
   * graph), `stages` (the stage chain), `full` (no exits), or `failed` (the run threw).
   */
  observeBatch(model: string, size: number, path?: EnginePath): void;
  /**
   * `route` is the route pattern (e.g. "/v1/classify") or the gRPC method ("/inference.GRPCInferenceService/ModelInfer"),
   * never the raw path; `status` the HTTP status (for gRPC, that of the same outcome over REST); protocol default rest.
   */
  recordRequest(route: string, status: number, seconds: number, protocol?: Protocol): void;
  recordError(code: string): void;
  setLedgerSource(source: LedgerSource | undefined): void;
  /** One monitored image continued to the final exit: the exit it had left at, whether the answers agree, the extra MACs. */
  recordMonitorSample(model: string, exit: number, agreed: boolean, macs: number): void;
  /** The agreement the model promises (a certified guarantee, or monitor.agreementTarget): the alert's threshold. */
  setAgreementTarget(model: string, ratio: number): void;
  setAgreementSource(source: AgreementSource | undefined): void;
  setQueueDepthSource(source: QueueDepthSource | undefined): void;
}

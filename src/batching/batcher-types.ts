/** Types of the dynamic batcher: generic over what a row carries (M) and what a run answers per row (R). */

/** One batch handed to the run function. */
export interface BatchInput<M> {
  /** rows x imageLength floats, row-major. Valid only until the run settles (the buffer is reused). */
  input: Float32Array;
  metas: M[];
  /** Per row, the signal of its request: a run may drop rows whose request is gone. */
  signals: Array<AbortSignal | undefined>;
  /** Per row, milliseconds it waited in the queue. */
  queueMs: number[];
  /** Due times of the rows with one still waiting after this batch, earliest first (at most maxBatch): the next batch's. */
  behind?: number[];
}

export type RunBatch<M, R> = (batch: BatchInput<M>) => Promise<R[]>;

/** Where a row's answer came from. */
export interface RowTimings {
  /** From submit to the start of the engine run that took the row. */
  queueMs: number;
  /** The whole engine run of the row's batch. */
  inferenceMs: number;
  /** Rows in that batch. */
  batchSize: number;
}

export interface Batched<R> {
  result: R;
  timings: RowTimings;
}

/** What one run did, for metrics. */
export interface BatchReport {
  size: number;
  inferenceSeconds: number;
  queueSeconds: number[];
}

export interface BatcherOptions<M, R> {
  /** Floats per row. */
  imageLength: number;
  /** Most rows per run. */
  maxBatch: number;
  /** How long the oldest waiting row may wait for company before a partial batch runs. */
  maxWaitMs: number;
  /** Most rows waiting or admitted to wait (not counting the batch running); beyond it admission refuses with OVERLOADED. */
  maxQueue: number;
  run: RunBatch<M, R>;
  /** Seconds a refused client is told to wait (Retry-After); default 1. */
  retryAfterSeconds?: number;
  /** Named in the overload message. */
  name?: string;
  /** Told after every run (successful or not: `error` set then). */
  onBatch?: (report: BatchReport, error?: unknown) => void;
  /** Milliseconds clock; default performance.now. */
  now?: () => number;
  /** How long rows with a due time may go ahead of a row without one; default 1000 ms. */
  maxBypassMs?: number;
  /**
   * Awaited before each batch takes its rows: lets input that has already arrived be read first (the
   * server's: connections waiting in the kernel to be accepted, see src/server/io-activity.ts), so
   * that their rows join this batch instead of waiting behind it.
   */
  settle?: () => Promise<unknown>;
}

/** Who sends a row: a client (the service passes its address, not its API key) and the connection it came on. */
export interface Party {
  readonly client: string;
  readonly connection: string;
}

/** Queue places held for one request, so that its rows are admitted all together or not at all. */
export interface Admission<M, R> {
  /**
   * Queue one row (its floats are copied when its batch forms); resolves with its answer. `dueAt`: the
   * clock time its answer is due (a deadline): such rows run first, earliest due first.
   */
  submit(input: Float32Array, meta: M, signal?: AbortSignal, dueAt?: number): Promise<Batched<R>>;
  /** Give back the places not used (rows that failed before submit). Idempotent. */
  release(): void;
}

export interface Batcher<M, R> {
  /**
   * Hold `rows` places now, or throw OVERLOADED / SHUTTING_DOWN. `party`: when the queue is full, the
   * client, or the connection of the same client, with the most rows waiting gives way to one with
   * fewer (fair-shares.ts), its newest rows answered OVERLOADED; and batches take rows without a due
   * time in turns between clients, and between a client's connections (due-queue.ts). Without a
   * party a full queue only refuses.
   */
  admit(rows: number, party?: Party): Admission<M, R>;
  /** Rows waiting for a batch (and places held for rows not yet submitted). */
  readonly depth: number;
  /** Rows in the run in progress. */
  readonly running: number;
  /** Rows submitted and waiting for a batch (not places held for rows still decoding). */
  readonly queued: number;
  /** Refuse new rows, run everything queued, resolve when idle. Idempotent. */
  drain(): Promise<void>;
}

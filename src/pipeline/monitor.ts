/**
 * The live agreement monitor: a sampled share of answered images runs on to
 * the final exit in the background, when the model has nothing else to do,
 * so that agreement with the full model is measured on real traffic without
 * labels. Its compute is counted apart and never charged to the ledger. The
 * sampled images' all-exit logits fill a bounded reservoir, from which the
 * thresholds can be recalibrated (agreement standing in for the label).
 */
import type { ExitOutputs } from '../config';
import { EeroError } from '../errors';
import { mulberry32, scoreRow, softmaxRow, withAgreementLabels, wilsonInterval } from '../router';
import type { LoadedModel } from './loaded-model';
import type { Recalibration } from './model-routing';
import type { ImageResult } from './results';
import type { RowMeta } from './row-meta';

export interface MonitorOptions {
  /** Share of answered images continued to the final exit. */
  sampleRate: number;
  /** All-exit outputs kept for recalibration (reservoir sampling). */
  reservoir: number;
  /** Samples needed before a recalibration; with autoRecalibrate, every this many new samples trigger one. */
  minSamples: number;
  autoRecalibrate: boolean;
  /** Most images waiting for the background run; more are dropped (and counted). Default 256. */
  maxPending?: number;
  /** Rows per background run: small, so a request arriving meanwhile waits little. Default 8. */
  batch?: number;
  seed?: number;
  /** Told for each monitored image: the 1-based exit it had left at, whether it agreed, the MACs spent on it. */
  onSample?: (exit: number, agreed: boolean, macs: number) => void;
}

export interface ExitAgreement {
  /** 1-based exit, or 'all' for every answer (final-exit answers agree by definition). */
  exit: number | 'all';
  samples: number;
  ratio: number;
  lower: number;
  upper: number;
}

export interface MonitorSnapshot {
  /** Images answered, by exit (0-based index), seen by the monitor. */
  answered: number[];
  agreement: ExitAgreement[];
  /** MACs spent by the background runs (not charged to the ledger). */
  macs: number;
  dropped: number;
  reservoir: number;
  recalibrations: number;
}

interface Pending {
  input: Float32Array;
  key: number;
  /** 0-based exit it left at, and its answer there. */
  exit: number;
  classIndex: number;
}

export class AgreementMonitor {
  private readonly rand: () => number;
  private readonly pending: Pending[] = [];
  private readonly answered: number[];
  private readonly samples: number[];
  private readonly agreed: number[];
  /** Reservoir of all-exit logits: one M x K array per kept image. */
  private readonly kept: Float32Array[] = [];
  private seen = 0;
  private sinceRecalibration = 0;
  private macs = 0;
  private dropped = 0;
  private recalibrations = 0;
  private recalibrating = false;
  private running = false;
  /** The background run in flight, if any (stop waits for it: the model's sessions go after). */
  private current: Promise<void> | undefined;
  private stopped = false;
  /** Samples offered since the pending list last emptied (for its reservoir sampling). */
  private offered = 0;

  constructor(
    private readonly model: LoadedModel,
    private readonly options: MonitorOptions,
    /** True when the model's batcher has no work: background runs only start then. */
    private readonly isIdle: () => boolean,
    private readonly onError: (e: unknown) => void = () => undefined,
  ) {
    const m = model.costs.costs.length;
    this.rand = mulberry32(options.seed ?? 0x5a3b1e);
    this.answered = new Array<number>(m).fill(0);
    this.samples = new Array<number>(m).fill(0);
    this.agreed = new Array<number>(m).fill(0);
  }

  /** A batch was answered: sample its rows (copied now: the batch buffer is reused). */
  offer(input: Float32Array, metas: readonly RowMeta[], results: readonly ImageResult[]): void {
    if (this.stopped) return;
    const len = this.model.preprocessor.imageLength;
    results.forEach((r, i) => {
      this.answered[r.exit - 1] = (this.answered[r.exit - 1] ?? 0) + 1;
      if (this.options.sampleRate <= 0 || this.rand() >= this.options.sampleRate) return;
      if (this.pending.length >= (this.options.maxPending ?? 256)) {
        this.dropped++;
        return;
      }
      this.pending.push({
        input: input.slice(i * len, (i + 1) * len),
        key: (metas[i] as RowMeta).key,
        exit: r.exit - 1,
        classIndex: r.classIndex,
      });
    });
  }

  /** Run background work if the model is idle (called after each batch and after each background run). */
  kick(): void {
    if (this.running || this.stopped || this.pending.length === 0) return;
    setImmediate(() => {
      if (this.running || this.stopped || !this.isIdle()) return;
      this.running = true;
      this.current = this.runOne()
        .catch((e: unknown) => this.onError(e))
        .finally(() => {
          this.running = false;
          this.current = undefined;
          this.kick();
        });
    });
  }

  /** Stop sampling and drop pending work (shutdown); resolves once a background run in flight has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.pending.length = 0;
    await this.current;
  }

  private async runOne(): Promise<void> {
    const { engine, costs, labels } = this.model;
    const take = this.pending.splice(0, this.options.batch ?? 8);
    if (this.pending.length === 0) this.offered = 0;
    const n = take.length;
    const len = this.model.preprocessor.imageLength;
    const k = labels.length;
    const m = costs.costs.length;
    const input = new Float32Array(n * len);
    take.forEach((p, i) => input.set(p.input, i * len));
    const all = take.map(() => new Float32Array(m * k));
    // Every row runs every exit: nobody leaves before the last.
    await engine.run(input, n, (exit, logits, rows) => {
      rows.forEach((r, j) => (all[r] as Float32Array).set(logits.subarray(j * k, (j + 1) * k), exit * k));
      return new Uint8Array(rows.length);
    });
    this.macs += n * costs.fullMacs;
    take.forEach((p, i) => this.record(p, all[i] as Float32Array));
  }

  private record(p: Pending, logits: Float32Array): void {
    const { labels, costs } = this.model;
    const k = labels.length;
    const last = costs.costs.length - 1;
    const scoring = this.model.routing.choose({}).policy.scoring;
    const final = scoreRow(softmaxRow(logits, last * k, k, scoring.temperature), last, p.key, scoring).prediction;
    this.samples[p.exit] = (this.samples[p.exit] ?? 0) + 1;
    if (final === p.classIndex) this.agreed[p.exit] = (this.agreed[p.exit] ?? 0) + 1;
    this.options.onSample?.(p.exit + 1, final === p.classIndex, costs.fullMacs);
    // Reservoir sampling (Vitter's algorithm R): every sample is kept with the same probability.
    this.seen++;
    if (this.kept.length < this.options.reservoir) this.kept.push(logits);
    else {
      const j = Math.floor(this.rand() * this.seen);
      if (j < this.options.reservoir) this.kept[j] = logits;
    }
    this.sinceRecalibration++;
    const min = this.minSamples;
    if (this.options.autoRecalibrate && !this.recalibrating && this.sinceRecalibration >= min && this.kept.length >= min) {
      this.recalibrate().catch((e: unknown) => this.onError(e));
    }
  }

  /** The reservoir as all-exit outputs, labelled by the final exit's answer. */
  outputs(): ExitOutputs {
    const { labels, costs } = this.model;
    const k = labels.length;
    const m = costs.costs.length;
    const n = this.kept.length;
    const logits = Array.from({ length: m }, (_, l) => {
      const out = new Float32Array(n * k);
      this.kept.forEach((row, i) => out.set(row.subarray(l * k, (l + 1) * k), i * k));
      return out;
    });
    return withAgreementLabels({ images: n, exits: m, classes: k, labels: new Int32Array(n).fill(-1), logits });
  }

  /**
   * Monitored images a recalibration needs: the configured minimum, or what the model's certified
   * guarantee needs if that is more (a certificate fitted on fewer images would not hold).
   */
  get minSamples(): number {
    return Math.max(this.options.minSamples, this.model.routing.samplesNeeded);
  }

  /** New thresholds from the reservoir, rebuilt in the background and swapped in whole. */
  async recalibrate(): Promise<{ version: number; samples: number; rebuilt: number; kept: Recalibration['kept'] }> {
    const samples = this.kept.length;
    const min = this.minSamples;
    if (samples < min) {
      throw new EeroError('BAD_PARAMETER', `recalibration needs ${min} monitored images, the reservoir holds ${samples}`, {
        details: { samples, minSamples: min },
      });
    }
    this.recalibrating = true;
    this.sinceRecalibration = 0;
    try {
      const r = await this.model.routing.recalibrate(this.outputs());
      this.recalibrations++;
      return { version: r.version, samples, rebuilt: r.rebuilt, kept: r.kept };
    } finally {
      this.recalibrating = false;
    }
  }

  get reservoirSize(): number {
    return this.kept.length;
  }

  /** Sampled images waiting for a background run (0 once the monitor has caught up). */
  get waiting(): number {
    return this.pending.length + (this.running ? 1 : 0);
  }

  snapshot(): MonitorSnapshot {
    const m = this.samples.length;
    const agreement: ExitAgreement[] = [];
    for (let l = 0; l < m - 1; l++) {
      const w = wilsonInterval(this.agreed[l] ?? 0, this.samples[l] ?? 0);
      agreement.push({ exit: l + 1, samples: this.samples[l] ?? 0, ...w });
    }
    agreement.push(this.overall());
    return {
      answered: [...this.answered],
      agreement,
      macs: this.macs,
      dropped: this.dropped,
      reservoir: this.kept.length,
      recalibrations: this.recalibrations,
    };
  }

  /**
   * Agreement over every answer: answers from the final exit agree by
   * definition, early ones are sampled. With e the share of early answers and
   * a the sampled early agreement, it is 1 - e (1 - a), and so are its bounds.
   */
  private overall(): ExitAgreement {
    const total = this.answered.reduce((s, c) => s + c, 0);
    const early = total - (this.answered[this.answered.length - 1] ?? 0);
    const n = this.samples.slice(0, -1).reduce((s, c) => s + c, 0);
    const agreed = this.agreed.slice(0, -1).reduce((s, c) => s + c, 0);
    const w = wilsonInterval(agreed, n);
    const e = total === 0 ? 0 : early / total;
    const lift = (a: number): number => 1 - e * (1 - a);
    return { exit: 'all', samples: n, ratio: n === 0 ? NaN : lift(w.ratio), lower: lift(w.lower), upper: lift(w.upper) };
  }
}

/**
 * Running a bundle's early-exit.onnx (models/FORMAT.md `earlyExit`): the whole
 * multi-exit network as one graph that scores, decides and compresses rows
 * itself, so a batch costs one onnxruntime call instead of one per stage.
 */
import type * as Ort from 'onnxruntime-node';
import { EeroError } from '../errors';

type OrtModule = typeof Ort;

/** What the runner needs from a manifest: the graph's tensor names and sizes. */
export interface EarlyExitGraphSpec {
  /** The graph's file, relative to the bundle folder. */
  file: string;
  inputs: {
    input: string;
    thresholds: string;
    temperature: string;
    noise: string;
    scoreKind: string;
    /** The ledger's grant in the graph: the batch's credit after exit 1, and the step costs (models/FORMAT.md). */
    credit?: string | undefined;
    steps?: string | undefined;
    /** The learned score's weights, (M - 1) x (1 + F): per exit, its bias then its F feature weights. */
    learnedWeights?: string | undefined;
  };
  /** Output name templates, `{l}` = the 1-based exit. */
  outputs: { rows: string; logits: string; scores: string; leave: string };
  /** The scores the graph computes: name -> `score_kind` code. */
  scores: Readonly<Record<string, ScoreKindCode>>;
  /** The learned score's features, in the order of its weights (when the graph computes it). */
  learnedFeatures: readonly string[] | undefined;
  /** M exits. */
  exits: number;
  /** K classes. */
  classes: number;
  /** One image's tensor dims after the batch axis, [C, H, W]. */
  inputDims: readonly number[];
}

/** The fields of a manifest the spec comes from (structural: any manifest type with them fits). */
export interface EarlyExitManifestFields {
  stages: readonly unknown[];
  labels: readonly string[];
  input: { channels: number; height: number; width: number };
  earlyExit?:
    | {
        file: string;
        inputs: EarlyExitGraphSpec['inputs'];
        outputs: EarlyExitGraphSpec['outputs'];
        scores?: Record<string, number> | undefined;
        learnedFeatures?: string[] | undefined;
      }
    | undefined;
}

/** What a graph composed before the manifest listed its scores computes. */
const FIXED_SCORES: Readonly<Record<string, ScoreKindCode>> = Object.freeze({ margin: 0, maxprob: 1, entropy: 2 });

/** The graph's `score_kind` input: a score's code in the router's registry (router/scorers). */
export type ScoreKindCode = number;

export interface EarlyExitRun {
  /** 0-based exit each row left at. */
  exits: Int32Array;
  /** batch x K: each row's (raw, untempered) logits at its exit. */
  logits: Float32Array;
  /**
   * Per exit: the rows that reached it (increasing), their scores and logits there (rows x K), for
   * traces. Empty when the run was asked for no detail.
   */
  reached: Array<{ rows: Int32Array; scores: Float64Array; logits: Float32Array }>;
  /** Each row's score at its exit, when the run fetched them (`scores` or `detail`) and the graph has them. */
  scores?: Float64Array;
  /** Wall milliseconds of the onnxruntime call. */
  ms: number;
}

export interface EarlyExitRunOptions {
  /**
   * Whether to return `reached` (every exit's rows, scores and logits: traces). Default true. Without
   * it only the outputs that route are fetched: the summary (`left_rows`, `left_counts`,
   * `left_logits`) when the graph has it, else each exit's rows, leave and logits. Every output
   * fetched costs onnxruntime-node about 10 us at batch 1, so a routing-only run of ResNet-18's
   * 8 exits fetches 3 outputs instead of 32.
   */
  detail?: boolean;
  /**
   * The ledger's grant, for a graph that takes it (EarlyExitGraph.grants): what the batch's pool
   * holds once every row has paid exit 1, with the ledger's rounding slack, and the M - 1 step costs
   * cost[l + 1] - cost[l]. The rows that want to go on past an exit are granted the step in row order
   * while the credit pays it; the rest leave there. Without it (or with +Infinity) no row is forced.
   */
  ledger?: { credit: number; steps: Float64Array };
  /**
   * The learned score's weights, for a graph that computes it: (M - 1) x (1 + F), exit-major, each exit's
   * bias then its weights in the order of `spec.learnedFeatures`. Zeros when absent (another score).
   */
  learnedWeights?: Float64Array;
  /** Also fetch each row's score at its exit (`left_scores`) in a run without detail. */
  scores?: boolean;
}

/** The graph's summary outputs (models/FORMAT.md), when it has them. */
const SUMMARY = { rows: 'left_rows', counts: 'left_counts', logits: 'left_logits' } as const;
/** The leaving rows' scores, in the summary's order (graphs composed before it lack it). */
const LEFT_SCORES = 'left_scores';

export interface EarlyExitGraph {
  readonly spec: EarlyExitGraphSpec;
  /** Whether the graph grants steps from the ledger's credit itself (inputs `credit` and `steps`). */
  readonly grants: boolean;
  run(
    input: Float32Array,
    batch: number,
    thresholds: Float64Array,
    temperature: number,
    noise: Float64Array,
    scoreKind: ScoreKindCode,
    options?: EarlyExitRunOptions,
  ): Promise<EarlyExitRun>;
  release(): Promise<void>;
}

export function earlyExitGraphSpec(manifest: EarlyExitManifestFields): EarlyExitGraphSpec {
  const ee = manifest.earlyExit;
  if (ee === undefined) throw new EeroError('MODEL_INVALID', 'the bundle has no earlyExit graph (models/FORMAT.md)');
  const { channels, height, width } = manifest.input;
  const scores = ee.scores ?? FIXED_SCORES;
  if (scores.learned !== undefined && (ee.inputs.learnedWeights === undefined || ee.learnedFeatures === undefined)) {
    throw new EeroError('MODEL_INVALID', 'earlyExit.scores lists the learned score without inputs.learnedWeights and learnedFeatures');
  }
  return {
    file: ee.file,
    inputs: ee.inputs,
    outputs: ee.outputs,
    scores,
    learnedFeatures: scores.learned === undefined ? undefined : ee.learnedFeatures,
    exits: manifest.stages.length,
    classes: manifest.labels.length,
    inputDims: [channels, height, width],
  };
}

function outputName(template: string, exit: number): string {
  return template.replaceAll('{l}', String(exit));
}

export async function openEarlyExitGraph(
  ort: OrtModule,
  file: string,
  spec: EarlyExitGraphSpec,
  sessionOptions: Ort.InferenceSession.SessionOptions,
): Promise<EarlyExitGraph> {
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(file, sessionOptions);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new EeroError('MODEL_INVALID', `${file}: onnxruntime cannot load the early-exit graph: ${why}`, { cause: e, details: { file } });
  }
  const outputs = Array.from({ length: spec.exits }, (_, i) =>
    (['rows', 'logits', 'scores', 'leave'] as const).map((kind) => outputName(spec.outputs[kind], i + 1)),
  );
  const missing = [
    ...Object.values(spec.inputs)
      .filter((name): name is string => name !== undefined && !session.inputNames.includes(name))
      .map((name) => `input "${name}"`),
    ...outputs
      .flat()
      .filter((name) => !session.outputNames.includes(name))
      .map((name) => `output "${name}"`),
  ];
  if (missing.length > 0) {
    await session.release().catch(() => undefined);
    throw new EeroError('MODEL_INVALID', `${file}: the early-exit graph lacks ${missing.join(', ')}`, { details: { file, missing } });
  }
  const summary = Object.values(SUMMARY).every((name) => session.outputNames.includes(name));
  return new Runner(ort, file, session, spec, outputs, summary, summary && session.outputNames.includes(LEFT_SCORES));
}

class Runner implements EarlyExitGraph {
  private readonly imageSize: number;
  readonly grants: boolean;

  constructor(
    private readonly ort: OrtModule,
    private readonly file: string,
    private readonly session: Ort.InferenceSession,
    readonly spec: EarlyExitGraphSpec,
    /** Per exit: its rows, logits, scores and leave output names. */
    private readonly outputs: string[][],
    /** Whether the graph has the summary outputs, and the leaving rows' scores among them. */
    private readonly summary: boolean,
    private readonly leftScores: boolean,
  ) {
    this.imageSize = spec.inputDims.reduce((a, b) => a * b, 1);
    this.grants = spec.inputs.credit !== undefined && spec.inputs.steps !== undefined;
    const m = spec.exits;
    this.noWeights = new Float64Array(spec.inputs.learnedWeights === undefined ? 0 : (m - 1) * (1 + (spec.learnedFeatures?.length ?? 0)));
    this.routingFetches = summary
      ? Object.values(SUMMARY)
      : outputs.flatMap(([rows, logits, , leave]) => [rows as string, logits as string, leave as string]);
  }

  /** The outputs a run without detail fetches. */
  private readonly routingFetches: string[];
  /** The learned weights fed to a run by another score (any values do; read-only, so one buffer serves). */
  private readonly noWeights: Float64Array;

  async run(
    input: Float32Array,
    batch: number,
    thresholds: Float64Array,
    temperature: number,
    noise: Float64Array,
    scoreKind: ScoreKindCode,
    options: EarlyExitRunOptions = {},
  ): Promise<EarlyExitRun> {
    const { exits: m, classes: k, inputs } = this.spec;
    if (input.length !== batch * this.imageSize) this.fail(`input holds ${input.length} values, not ${batch} x ${this.imageSize}`);
    if (thresholds.length !== batch * m) this.fail(`thresholds hold ${thresholds.length} values, not ${batch} x ${m}`);
    if (noise.length !== batch * m * k) this.fail(`noise holds ${noise.length} values, not ${batch} x ${m} x ${k}`);
    if (!(temperature > 0 && Number.isFinite(temperature))) this.fail(`temperature must be a positive number, got ${temperature}`);
    if (batch === 0) return { exits: new Int32Array(0), logits: new Float32Array(0), reached: [], ms: 0 };
    const T = this.ort.Tensor;
    const feeds = {
      [inputs.input]: new T('float32', input, [batch, ...this.spec.inputDims]),
      [inputs.thresholds]: new T('float64', thresholds, [batch, m]),
      [inputs.temperature]: new T('float64', Float64Array.of(temperature), [1]),
      [inputs.noise]: new T('float64', noise, [batch, m, k]),
      [inputs.scoreKind]: new T('int64', BigInt64Array.of(BigInt(scoreKind)), [1]),
    };
    if (inputs.learnedWeights !== undefined) {
      const size = this.noWeights.length;
      const weights = options.learnedWeights ?? this.noWeights;
      this.check(weights.length === size, `learned weights hold ${weights.length} values, not ${size}`);
      feeds[inputs.learnedWeights] = new T('float64', weights, [m - 1, size / (m - 1)]);
    } else {
      this.check(options.learnedWeights === undefined, 'this early-exit graph does not compute the learned score');
    }
    if (this.grants) {
      const steps = options.ledger?.steps ?? new Float64Array(m - 1);
      if (steps.length !== m - 1) this.fail(`steps hold ${steps.length} values, not ${m - 1}`);
      feeds[inputs.credit as string] = new T('float64', Float64Array.of(options.ledger?.credit ?? Infinity), [1]);
      feeds[inputs.steps as string] = new T('float64', steps, [m - 1]);
    } else {
      this.check(
        options.ledger === undefined || options.ledger.credit === Infinity,
        "this early-exit graph cannot take the ledger's grant (no credit input)",
      );
    }
    const detail = options.detail ?? true;
    const fetchScores = options.scores === true && this.leftScores;
    const fetches = fetchScores ? [...this.routingFetches, LEFT_SCORES] : this.routingFetches;
    const t0 = performance.now();
    let result: Ort.InferenceSession.ReturnType;
    try {
      result = await (detail ? this.session.run(feeds) : this.session.run(feeds, fetches));
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new EeroError('INTERNAL', `${this.file}: early-exit graph run failed: ${why}`, { cause: e, details: { file: this.file } });
    }
    const ms = performance.now() - t0;
    if (detail) return { ...this.collect(result, batch), ms };
    const routed = this.summary ? this.collectSummary(result, batch, fetchScores) : this.collectRouting(result, batch);
    return { ...routed, reached: [], ms };
  }

  /** Each row's exit and logits from the summary outputs: the rows in leaving order, counted exit by exit. */
  private collectSummary(
    result: Ort.InferenceSession.ReturnType,
    batch: number,
    withScores: boolean,
  ): Omit<EarlyExitRun, 'ms' | 'reached'> {
    const { exits: m, classes: k } = this.spec;
    const rows = this.data(result, SUMMARY.rows, 'int64');
    const counts = this.data(result, SUMMARY.counts, 'int64');
    const left = this.data(result, SUMMARY.logits, 'float32');
    const leftScores = withScores ? this.data(result, LEFT_SCORES, 'float64') : undefined;
    this.check(rows.length === batch && counts.length === m && left.length === batch * k, 'summary outputs of mismatched lengths');
    this.check(leftScores === undefined || leftScores.length === batch, 'summary scores of a mismatched length');
    const exits = new Int32Array(batch).fill(-1);
    const logits = new Float32Array(batch * k);
    const scores = leftScores && new Float64Array(batch);
    let i = 0;
    for (let l = 0; l < m; l++) {
      const end = i + Number(counts[l]);
      if (end > batch) this.fail(`summary: more than ${batch} rows left`);
      for (; i < end; i++) {
        const row = Number(rows[i]);
        if (!(row >= 0 && row < batch && exits[row] === -1)) this.fail(`summary: row ${row} out of range or left twice`);
        exits[row] = l;
        logits.set(left.subarray(i * k, (i + 1) * k), row * k);
        if (scores) scores[row] = leftScores?.[i] as number;
      }
    }
    this.check(i === batch, 'a row left at no exit');
    return scores ? { exits, logits, scores } : { exits, logits };
  }

  /** Each row's exit and logits from every exit's rows, leave and logits (a graph without the summary). */
  private collectRouting(result: Ort.InferenceSession.ReturnType, batch: number): Omit<EarlyExitRun, 'ms' | 'reached'> {
    const k = this.spec.classes;
    const exits = new Int32Array(batch).fill(-1);
    const logits = new Float32Array(batch * k);
    this.outputs.forEach(([rowsName, logitsName, , leaveName], l) => {
      const rows = this.data(result, rowsName as string, 'int64');
      const exitLogits = this.data(result, logitsName as string, 'float32');
      const leave = this.data(result, leaveName as string, 'bool');
      if (!(exitLogits.length === rows.length * k && leave.length === rows.length))
        this.fail(`exit ${l + 1}: outputs of mismatched lengths`);
      for (let i = 0; i < rows.length; i++) {
        const row = Number(rows[i]);
        if (!(row >= 0 && row < batch && exits[row] === -1)) this.fail(`exit ${l + 1}: row ${row} out of range or already gone`);
        if (leave[i]) {
          exits[row] = l;
          logits.set(exitLogits.subarray(i * k, (i + 1) * k), row * k);
        }
      }
    });
    this.check(!exits.includes(-1), 'a row left at no exit');
    return { exits, logits };
  }

  /** Each row's exit and logits from the per-exit outputs. */
  private collect(result: Ort.InferenceSession.ReturnType, batch: number): Omit<EarlyExitRun, 'ms'> {
    const k = this.spec.classes;
    const exits = new Int32Array(batch).fill(-1);
    const logits = new Float32Array(batch * k);
    const rowScores = new Float64Array(batch);
    const reached = this.outputs.map(([rowsName, logitsName, scoresName, leaveName], l) => {
      const rows = Int32Array.from(this.data(result, rowsName as string, 'int64'), Number);
      const exitLogits = this.data(result, logitsName as string, 'float32');
      const scores = this.data(result, scoresName as string, 'float64');
      const leave = this.data(result, leaveName as string, 'bool');
      this.check(
        exitLogits.length === rows.length * k && scores.length === rows.length && leave.length === rows.length,
        `exit ${l + 1}: outputs of mismatched lengths`,
      );
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i] as number;
        if (!(row >= 0 && row < batch && exits[row] === -1)) this.fail(`exit ${l + 1}: row ${row} out of range or already gone`);
        if (leave[i]) {
          exits[row] = l;
          logits.set(exitLogits.subarray(i * k, (i + 1) * k), row * k);
          rowScores[row] = scores[i] as number;
        }
      }
      return { rows, scores: Float64Array.from(scores), logits: Float32Array.from(exitLogits) };
    });
    this.check(!exits.includes(-1), 'a row left at no exit');
    return { exits, logits, reached, scores: rowScores };
  }

  private data<K extends 'int64' | 'float32' | 'float64' | 'bool'>(
    result: Ort.InferenceSession.ReturnType,
    name: string,
    type: K,
  ): Ort.Tensor.DataTypeMap[K] {
    const value = result[name];
    if (!(value !== undefined && 'type' in value && value.type === type)) this.fail(`output "${name}" is not a ${type} tensor`);
    return (value as Ort.TypedTensor<K>).data;
  }

  private check(ok: boolean, what: string): asserts ok {
    if (!ok) this.fail(what);
  }

  /** A run the graph did not answer as its interface says (messages built only then: checks run per row). */
  private fail(what: string): never {
    throw new EeroError('INTERNAL', `${this.file}: ${what}`, { details: { file: this.file } });
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

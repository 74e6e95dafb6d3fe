/** The schema of a bundle's manifest.yaml (models/FORMAT.md), its cross-field rules, and the types inferred from it. */
import type { z } from 'zod';
import { inputSpecSchema } from './input-spec';
import { anyRecord, arr, num, obj, oneOf, optional, record, reporter, str, type Report, type Schema } from './schema';

const HEX64 = /^[0-9a-f]{64}$/i;
/** A plain file name inside the bundle: no folders going up, no absolute paths. */
const BUNDLE_FILE = /^(?!\/)(?!.*(^|\/)\.\.(\/|$))[^\\\0]+$/;

const sha256 = str({ pattern: HEX64, patternName: 'a 64-hex string' });
const bundleFile = str({ nonEmpty: true, pattern: BUNDLE_FILE, patternName: 'a relative path inside the bundle' });
const byteCount = num({ integer: true, min: 1 });
/** -1 marks the dynamic batch axis. */
const dimension: Schema<number> = num({ integer: true, min: -1 }).refine((d) => d !== 0, { error: 'expected -1 or a positive size' });

const tensorSpec = obj({ name: str({ nonEmpty: true }), shape: arr(dimension, { minLength: 1 }) });
const fileRef = { file: bundleFile, sha256, bytes: byteCount };

const stageSpec = obj({ ...fileRef, input: tensorSpec, features: optional(tensorSpec), logits: tensorSpec });

const exitSpec = obj({
  exit: num({ integer: true, min: 1 }),
  /** Cumulative multiply-adds per image up to and including this exit's head. */
  macs: num({ above: 0 }),
  calibrationAccuracy: num({ min: 0, max: 1 }),
  testAccuracy: num({ min: 0, max: 1 }),
});

const outputsRef = obj({ file: bundleFile, sha256, images: num({ integer: true, min: 1 }) });

/** The network without early exits as one graph (`reference`): the speed reference and the plain serving mode. */
const referenceSpec = obj({ ...fileRef, input: tensorSpec, logits: tensorSpec });

/** The whole early-exit network as one graph that routes rows itself (models/FORMAT.md `earlyExit`). */
const earlyExitSpec = obj(
  {
    ...fileRef,
    inputs: obj(
      {
        input: str(),
        thresholds: str(),
        temperature: str(),
        noise: str(),
        scoreKind: str(),
        /** The ledger's grant (optional: a graph without them runs only when the pool covers every row). */
        credit: optional(str()),
        steps: optional(str()),
        /** The learned score's per-exit [bias, weights...] (a graph that computes the learned score). */
        learnedWeights: optional(str()),
      },
      { unknownKeys: 'ignore' },
    ),
    /** Output name patterns; `{l}` is the 1-based exit. */
    outputs: obj({ rows: str(), logits: str(), scores: str(), leave: str() }, { unknownKeys: 'ignore' }),
    /** The scores the graph computes, by name: their `score_kind` codes (absent: margin 0, maxprob 1, entropy 2). */
    scores: optional(record(num({ integer: true, min: 0 }))),
    /** The learned score's features, in the graph's order (with `scores.learned`). */
    learnedFeatures: optional(arr(str({ nonEmpty: true }))),
  },
  { unknownKeys: 'ignore' },
);

/** The learned exit score's fitted params (models/FORMAT.md `learnedScore`): written by `eero calibrate --fit-learned`. */
const learnedScoreSpec = obj({ ...fileRef }, { unknownKeys: 'ignore' });

const manifestFields = obj(
  {
    format: oneOf([1] as const),
    name: str({ nonEmpty: true }),
    architecture: anyRecord(),
    labels: arr(str({ nonEmpty: true }), { minLength: 2 }),
    input: inputSpecSchema,
    stages: arr(stageSpec, { minLength: 1 }),
    exits: arr(exitSpec, { minLength: 1 }),
    outputs: obj({ calibration: outputsRef, test: outputsRef }),
    fixtures: optional(obj({ folder: bundleFile, logits: bundleFile })),
    reference: optional(referenceSpec),
    /** Every graph's initializers, stored once (ONNX external data). */
    weights: optional(obj(fileRef)),
    earlyExit: optional(earlyExitSpec),
    learnedScore: optional(learnedScoreSpec),
    training: optional(anyRecord()),
  },
  // Readers ignore fields a newer exporter may add.
  { unknownKeys: 'ignore' },
);

export type TensorSpec = z.infer<typeof tensorSpec>;
export type StageSpec = z.infer<typeof stageSpec>;
export type Manifest = z.infer<typeof manifestFields>;

const show = (shape: number[]): string => `[${shape.join(', ')}]`;
const sameShape = (a: number[], b: number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

function checkStages(m: Manifest, report: Report): void {
  const { channels, height, width } = m.input;
  let previous: number[] = [channels, height, width];
  m.stages.forEach((stage, l) => {
    const previousName = l === 0 ? 'the input tensor' : `stages[${l - 1}].features`;
    if (!sameShape(stage.input.shape, [-1, ...previous])) {
      report(['stages', l, 'input', 'shape'], `expected ${show([-1, ...previous])} (${previousName}), got ${show(stage.input.shape)}`);
    }
    const logits = [-1, m.labels.length];
    if (!sameShape(stage.logits.shape, logits))
      report(['stages', l, 'logits', 'shape'], `expected ${show(logits)}, got ${show(stage.logits.shape)}`);
    const last = l === m.stages.length - 1;
    if (last && stage.features) report(['stages', l, 'features'], 'the last stage has no features output');
    if (!last) {
      if (!stage.features) return report(['stages', l, 'features'], 'expected a features tensor (every stage but the last)');
      if (stage.features.shape[0] !== -1 || stage.features.shape.slice(1).some((d) => d < 1)) {
        report(['stages', l, 'features', 'shape'], `expected -1 then positive sizes, got ${show(stage.features.shape)}`);
      }
      previous = stage.features.shape.slice(1);
    }
  });
  const files = new Set<string>();
  m.stages.forEach((stage, l) => {
    if (files.has(stage.file)) report(['stages', l, 'file'], `file ${stage.file} is used by two stages`);
    files.add(stage.file);
  });
}

function checkExits(m: Manifest, report: Report): void {
  if (m.exits.length !== m.stages.length) report(['exits'], `expected ${m.stages.length} exits (one per stage), got ${m.exits.length}`);
  m.exits.forEach((exit, l) => {
    if (exit.exit !== l + 1) report(['exits', l, 'exit'], `expected ${l + 1}, got ${exit.exit}`);
    const before = m.exits[l - 1];
    if (before && exit.macs < before.macs)
      report(['exits', l, 'macs'], `expected >= exits[${l - 1}].macs ${before.macs} (cumulative), got ${exit.macs}`);
  });
}

/** The whole manifest: field types, then the rules that tie fields together. */
export const manifestSchema = manifestFields.superRefine((m, ctx) => {
  const report = reporter(ctx);
  checkStages(m, report);
  checkExits(m, report);
});

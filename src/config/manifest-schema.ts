/** The schema of a bundle's manifest.yaml (models/FORMAT.md) and its cross-field checks. */
import type { ExitSpec, InputSpec, Manifest, ReferenceSpec, StageSpec, TensorSpec } from './manifest-types';
import { anyRecord, arr, child, fail, item, num, obj, oneOf, optional, str, type Schema } from './schema';

const HEX64 = /^[0-9a-f]{64}$/i;
/** A plain file name inside the bundle: no folders going up, no absolute paths. */
const BUNDLE_FILE = /^(?!\/)(?!.*(^|\/)\.\.(\/|$))[^\\\0]+$/;

const sha256 = str({ pattern: HEX64, patternName: 'a 64-hex string' });
const bundleFile = str({ nonEmpty: true, pattern: BUNDLE_FILE, patternName: 'a relative path inside the bundle' });

const dimension: Schema<number> = (value, path) => {
  if (value === -1) return -1;
  return num({ integer: true, min: 1 })(value, path);
};

const tensorSpec: Schema<TensorSpec> = obj({
  name: str({ nonEmpty: true }),
  shape: arr(dimension, { minLength: 1 }),
});

const stageSpec: Schema<StageSpec> = obj({
  file: bundleFile,
  sha256,
  bytes: num({ integer: true, min: 1 }),
  input: tensorSpec,
  features: optional(tensorSpec),
  logits: tensorSpec,
});

const referenceSpec: Schema<ReferenceSpec> = obj({
  file: bundleFile,
  sha256,
  bytes: num({ integer: true, min: 1 }),
  input: tensorSpec,
  logits: tensorSpec,
});

const exitSpec: Schema<ExitSpec> = obj({
  exit: num({ integer: true, min: 1 }),
  macs: num({ above: 0 }),
  calibrationAccuracy: num({ min: 0, max: 1 }),
  testAccuracy: num({ min: 0, max: 1 }),
});

const byte = num({ integer: true, min: 0, max: 255 });
const pixels = num({ integer: true, min: 0 });

const inputSpec: Schema<InputSpec> = obj({
  channels: oneOf([1, 3] as const),
  colorSpace: oneOf(['gray', 'srgb'] as const),
  height: num({ integer: true, min: 1 }),
  width: num({ integer: true, min: 1 }),
  resize: obj({
    width: num({ integer: true, min: 1 }),
    height: num({ integer: true, min: 1 }),
    fit: oneOf(['fill', 'contain', 'cover'] as const),
  }),
  pad: arr(pixels, { length: 4 }) as Schema<[number, number, number, number]>,
  background: arr(byte, { length: 3 }) as Schema<[number, number, number]>,
  scale: num({ above: 0 }),
  mean: arr(num(), { minLength: 1 }),
  std: arr(num({ above: 0 }), { minLength: 1 }),
});

const outputsRef = obj({
  file: bundleFile,
  sha256,
  images: num({ integer: true, min: 1 }),
});

const manifestFields: Schema<Manifest> = obj(
  {
    format: oneOf([1] as const),
    name: str({ nonEmpty: true }),
    architecture: anyRecord(),
    labels: arr(str({ nonEmpty: true }), { minLength: 2 }),
    input: inputSpec,
    stages: arr(stageSpec, { minLength: 1 }),
    exits: arr(exitSpec, { minLength: 1 }),
    outputs: obj({ calibration: outputsRef, test: outputsRef }),
    fixtures: optional(obj({ folder: bundleFile, logits: bundleFile })),
    reference: optional(referenceSpec),
    training: optional(anyRecord()),
  },
  // Readers ignore fields a newer exporter may add.
  { unknownKeys: 'ignore' },
);

/** The whole manifest: field types, then the rules that tie fields together. */
export const manifestSchema: Schema<Manifest> = (value, path) => {
  const m = manifestFields(value, path);
  checkInput(m.input);
  checkStages(m);
  checkExits(m);
  return m;
};

function checkInput(input: InputSpec): void {
  const wantChannels = input.colorSpace === 'gray' ? 1 : 3;
  if (input.channels !== wantChannels) {
    fail('input.channels', `expected ${wantChannels} for colorSpace ${input.colorSpace}, got ${input.channels}`);
  }
  for (const key of ['mean', 'std'] as const) {
    if (input[key].length !== input.channels) {
      fail(`input.${key}`, `expected ${input.channels} values (one per channel), got ${input[key].length}`);
    }
  }
  const [top, right, bottom, left] = input.pad;
  if (input.resize.height + top + bottom !== input.height) {
    fail('input.resize.height', `resize.height + pad top + bottom must equal height ${input.height}`);
  }
  if (input.resize.width + left + right !== input.width) {
    fail('input.resize.width', `resize.width + pad left + right must equal width ${input.width}`);
  }
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

const show = (shape: number[]): string => `[${shape.join(', ')}]`;

function checkTensor(spec: TensorSpec, path: string, rest: number[]): void {
  const want = [-1, ...rest];
  if (!sameShape(spec.shape, want)) fail(child(path, 'shape'), `expected ${show(want)}, got ${show(spec.shape)}`);
}

function checkStages(m: Manifest): void {
  const { channels, height, width } = m.input;
  const classes = m.labels.length;
  let previous: number[] = [channels, height, width];
  m.stages.forEach((stage, l) => {
    const path = item('stages', l);
    const previousName = l === 0 ? 'the input tensor' : `stages[${l - 1}].features`;
    if (!sameShape(stage.input.shape, [-1, ...previous])) {
      fail(child(child(path, 'input'), 'shape'), `expected ${show([-1, ...previous])} (${previousName}), got ${show(stage.input.shape)}`);
    }
    checkTensor(stage.logits, child(path, 'logits'), [classes]);
    const last = l === m.stages.length - 1;
    if (last && stage.features) fail(child(path, 'features'), 'the last stage has no features output');
    if (!last) {
      if (!stage.features) fail(child(path, 'features'), 'expected a features tensor (every stage but the last)');
      if (stage.features.shape[0] !== -1 || stage.features.shape.slice(1).some((d) => d < 1)) {
        fail(child(child(path, 'features'), 'shape'), `expected -1 then positive sizes, got ${show(stage.features.shape)}`);
      }
      previous = stage.features.shape.slice(1);
    }
  });
  const files = new Set<string>();
  m.stages.forEach((stage, l) => {
    if (files.has(stage.file)) fail(child(item('stages', l), 'file'), `file ${stage.file} is used by two stages`);
    files.add(stage.file);
  });
}

function checkExits(m: Manifest): void {
  if (m.exits.length !== m.stages.length) {
    fail('exits', `expected ${m.stages.length} exits (one per stage), got ${m.exits.length}`);
  }
  m.exits.forEach((exit, l) => {
    const path = item('exits', l);
    if (exit.exit !== l + 1) fail(child(path, 'exit'), `expected ${l + 1}, got ${exit.exit}`);
    const before = m.exits[l - 1];
    if (before && exit.macs < before.macs) {
      fail(child(path, 'macs'), `expected >= exits[${l - 1}].macs ${before.macs} (cumulative), got ${exit.macs}`);
    }
  });
}

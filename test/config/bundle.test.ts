import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadBundle } from '../../src/config';
import { EeroError } from '../../src/errors';
import { makeTempDir, removeDir, writeFakeBundle, type FakeBundle } from './fake-bundle';

let dir: string;
let fake: FakeBundle;

beforeEach(async () => {
  dir = await makeTempDir();
  fake = await writeFakeBundle(dir);
});
afterEach(() => removeDir(dir));

async function loadError(verify = true): Promise<EeroError> {
  try {
    await loadBundle(dir, { verify });
  } catch (e) {
    expect(e).toBeInstanceOf(EeroError);
    return e as EeroError;
  }
  throw new Error('expected loadBundle to fail');
}

const manifestFile = (): string => join(dir, 'manifest.yaml');

describe('loadBundle', () => {
  test('a valid bundle loads into typed fields and stage paths', async () => {
    const bundle = await loadBundle(dir);
    expect(bundle.dir).toBe(dir);
    expect(bundle.manifest.name).toBe('fake');
    expect(bundle.manifest.stages).toHaveLength(3);
    expect(bundle.manifest.stages[2]?.features).toBeUndefined();
    expect(bundle.manifest.input.pad).toEqual([1, 1, 1, 1]);
    expect(bundle.stagePaths).toEqual([1, 2, 3].map((l) => join(dir, `stage-${l}.onnx`)));
    expect(bundle.outputPaths.test).toBe(join(dir, 'outputs-test.bin'));
  });

  // Each case edits the manifest and expects MODEL_INVALID naming the file and the field.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each case edits the YAML tree freely
  const cases: Array<[string, (m: Record<string, any>) => void, string, RegExp?]> = [
    ['bad sha256', (m) => (m.stages[2].sha256 = 'xyz'), 'stages[2].sha256', /64-hex/],
    ['wrong format', (m) => (m.format = 2), 'format'],
    ['missing name', (m) => delete m.name, 'name'],
    ['exits shorter than stages', (m) => m.exits.pop(), 'exits', /3 exits/],
    ['macs decreasing', (m) => (m.exits[2].macs = 10), 'exits[2].macs', /cumulative/],
    ['macs not positive', (m) => (m.exits[0].macs = 0), 'exits[0].macs'],
    ['exit numbering', (m) => (m.exits[1].exit = 5), 'exits[1].exit'],
    ['labels vs logits K', (m) => m.labels.push('e'), 'stages[0].logits.shape', /\[-1, 5\]/],
    ['mean length vs channels', (m) => (m.input.mean = [0.1, 0.2, 0.3]), 'input.mean', /1 values/],
    ['std length vs channels', (m) => (m.input.std = []), 'input.std'],
    ['channels not 1 or 3', (m) => (m.input.channels = 2), 'input.channels'],
    ['colour space vs channels', (m) => (m.input.colorSpace = 'srgb'), 'input.channels'],
    ['bad fit', (m) => (m.input.resize.fit = 'stretch'), 'input.resize.fit', /"fill"/],
    ['pad + resize != size', (m) => (m.input.pad = [0, 0, 0, 0]), 'input.resize.height'],
    ['shapes do not chain', (m) => (m.stages[1].input.shape = [-1, 5, 8, 8]), 'stages[1].input.shape', /stages\[0\]\.features/],
    ['stage 1 input vs input spec', (m) => (m.stages[0].input.shape = [-1, 3, 8, 8]), 'stages[0].input.shape'],
    ['features on last stage', (m) => (m.stages[2].features = { name: 'f', shape: [-1, 1] }), 'stages[2].features'],
    ['features missing mid-way', (m) => delete m.stages[0].features, 'stages[0].features'],
    ['file escapes the bundle', (m) => (m.stages[0].file = '../x.onnx'), 'stages[0].file'],
    ['tensor name empty', (m) => (m.stages[1].logits.name = ''), 'stages[1].logits.name'],
    ['bytes not an integer', (m) => (m.stages[0].bytes = 'many'), 'stages[0].bytes', /"many"/],
    ['outputs images', (m) => (m.outputs.test.images = 0), 'outputs.test.images'],
  ];

  // Every row gets 4 entries: with fewer, jest would take the 4th parameter for a `done` callback.
  const rows = cases.map(([name, edit, field, detail]) => [name, edit, field, detail ?? null] as const);
  test.each(rows)('%s → MODEL_INVALID naming file and field', async (_name, edit, field, detail) => {
    edit(fake.manifest);
    await fake.save();
    const e = await loadError();
    expect(e.code).toBe('MODEL_INVALID');
    expect(e.message.startsWith(`${manifestFile()}: ${field}: `)).toBe(true);
    if (detail) expect(e.message).toMatch(detail);
    expect(e.details).toMatchObject({ file: manifestFile(), field });
  });

  test('YAML syntax error names the file and line', async () => {
    await writeFile(manifestFile(), 'format: 1\nname: [unclosed\n');
    const e = await loadError();
    expect(e.code).toBe('MODEL_INVALID');
    expect(e.message).toMatch(new RegExp(`^${escape(manifestFile())}: line \\d+: invalid YAML`));
  });

  test('missing manifest → MODEL_FILE_MISSING', async () => {
    await unlink(manifestFile());
    const e = await loadError();
    expect(e.code).toBe('MODEL_FILE_MISSING');
    expect(e.message).toContain(manifestFile());
  });

  test('missing stage file → MODEL_FILE_MISSING naming it (also with verify off)', async () => {
    await unlink(join(dir, 'stage-2.onnx'));
    for (const verify of [true, false]) {
      const e = await loadError(verify);
      expect(e.code).toBe('MODEL_FILE_MISSING');
      expect(e.message).toContain(join(dir, 'stage-2.onnx'));
    }
  });

  test('a flipped byte → CHECKSUM_MISMATCH naming file, expected and actual; verify off skips it', async () => {
    const file = join(dir, 'stage-3.onnx');
    const bytes = await readFile(file);
    bytes[100] = (bytes[100] as number) ^ 0xff;
    await writeFile(file, bytes);
    const e = await loadError();
    expect(e.code).toBe('CHECKSUM_MISMATCH');
    const expected = fake.manifest.stages[2].sha256 as string;
    expect(e.message).toContain(file);
    expect(e.message).toContain(`expected ${expected}`);
    expect(e.message).toMatch(/actual [0-9a-f]{64}/);
    await expect(loadBundle(dir, { verify: false })).resolves.toBeDefined();
  });

  test('a truncated stage file → CHECKSUM_MISMATCH with the sizes', async () => {
    const file = join(dir, 'stage-1.onnx');
    await writeFile(file, (await readFile(file)).subarray(0, 10));
    const e = await loadError();
    expect(e.code).toBe('CHECKSUM_MISMATCH');
    expect(e.message).toContain(file);
    expect(e.message).toMatch(/size 10 bytes, manifest says 256/);
  });

  test('unknown manifest fields are ignored (newer exporters)', async () => {
    fake.manifest.somethingNew = { x: 1 };
    await fake.save();
    await expect(loadBundle(dir)).resolves.toBeDefined();
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { parse, stringify } from 'yaml';
import { loadBundle } from '../../src/config';
import { createEngine, sessionOptions } from '../../src/engine';
import { BUNDLE_DIR, TEST_ENGINE_OPTIONS, copyBundle } from './shipped-bundle';
import { eeroFailure } from '../support/eero-failure';

let dir: string;
beforeEach(async () => {
  dir = await copyBundle();
});
afterEach(() => rm(dir, { recursive: true, force: true }));

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests edit the YAML tree freely
async function editManifest(edit: (m: any) => void): Promise<void> {
  const file = join(dir, 'manifest.yaml');
  const m = parse(await readFile(file, 'utf8'));
  edit(m);
  await writeFile(file, stringify(m));
}

describe('loading a corrupted bundle', () => {
  test('flipped bytes in a stage file: CHECKSUM_MISMATCH, or MODEL_INVALID from onnxruntime with verify off', async () => {
    const file = join(dir, 'stage-2.onnx');
    const bytes = await readFile(file);
    for (let i = 0; i < 64; i++) bytes[i] = (bytes[i] as number) ^ 0xa5; // breaks the protobuf framing
    await writeFile(file, bytes);

    const mismatch = await eeroFailure(loadBundle(dir));
    expect(mismatch.code).toBe('CHECKSUM_MISMATCH');
    expect(mismatch.message).toContain(file);

    const bundle = await loadBundle(dir, { verify: false });
    const invalid = await eeroFailure(createEngine(bundle, TEST_ENGINE_OPTIONS));
    expect(invalid.code).toBe('MODEL_INVALID');
    expect(invalid.message.startsWith(`${file}: `)).toBe(true);
    expect(invalid.cause).toBeDefined();
  });

  test('a truncated stage file with verify off: MODEL_INVALID naming it', async () => {
    const file = join(dir, 'stage-3.onnx');
    const bytes = await readFile(file);
    await writeFile(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const bundle = await loadBundle(dir, { verify: false });
    const e = await eeroFailure(createEngine(bundle, TEST_ENGINE_OPTIONS));
    expect(e.code).toBe('MODEL_INVALID');
    expect(e.message).toContain(file);
  });

  test('a tensor name the graph lacks: MODEL_INVALID naming the stage file and the name', async () => {
    await editManifest((m) => (m.stages[1].input.name = 'image'));
    const e = await eeroFailure(createEngine(await loadBundle(dir), TEST_ENGINE_OPTIONS));
    expect(e.code).toBe('MODEL_INVALID');
    expect(e.message).toContain(join(dir, 'stage-2.onnx'));
    expect(e.message).toContain('"image"');
  });

  test('a missing output name is found too', async () => {
    await editManifest((m) => (m.stages[0].logits.name = 'scores'));
    const e = await eeroFailure(createEngine(await loadBundle(dir), TEST_ENGINE_OPTIONS));
    expect(e.message).toContain(join(dir, 'stage-1.onnx'));
    expect(e.message).toContain('"scores"');
  });
});

describe('engine set-up', () => {
  test('session options turn thread spinning off and default to sequential, all optimisations', () => {
    const o = sessionOptions({ intraOpThreads: 3 }, 'cpu');
    expect(o).toMatchObject({
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      intraOpNumThreads: 3,
      interOpNumThreads: 1,
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    });
  });

  test('a runtime without CUDA: cpu, with exactly one log line saying so', async () => {
    const lines: string[] = [];
    const noCuda = { ...ort, listSupportedBackends: () => [{ name: 'cpu', bundled: true }] };
    const engine = await createEngine(
      await loadBundle(BUNDLE_DIR),
      { ...TEST_ENGINE_OPTIONS, executionProvider: 'cuda' },
      { logger: { warn: (line) => lines.push(line) }, ort: noCuda },
    );
    await engine.dispose();
    expect(engine.executionProvider).toBe('cpu');
    expect(lines).toEqual([expect.stringMatching(/no CUDA provider; using cpu/)]);
  });

  test('after dispose, run is refused', async () => {
    const engine = await createEngine(await loadBundle(BUNDLE_DIR), TEST_ENGINE_OPTIONS);
    await engine.dispose();
    await engine.dispose(); // idempotent
    const e = await eeroFailure(engine.run(new Float32Array(engine.imageSize), 1, () => []));
    expect(e.code).toBe('SHUTTING_DOWN');
  });
});

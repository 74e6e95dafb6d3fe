import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadBundle, readBundleOutputs, readExitOutputs } from '../../src/config';
import { encodeOutputs, makeTempDir, removeDir, writeFakeBundle } from './fake-bundle';
import { eeroFailure } from '../support/eero-failure';

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(() => removeDir(dir));

// 3 images, 2 exits, 4 classes.
const labels = [2, -1, 0];
const logits = [
  [
    [0.5, -1.25, 3, 0],
    [1, 2, 3, 4],
    [-0, 1e-7, -3.5, 100],
  ],
  [
    [9, 8, 7, 6],
    [0.1, 0.2, 0.3, 0.4],
    [-1, -2, -3, -4],
  ],
];

describe('readExitOutputs', () => {
  test('reads labels and exit-major logits', async () => {
    const file = join(dir, 'outputs-test.bin');
    await writeFile(file, encodeOutputs(labels, logits));
    const o = await readExitOutputs(file);
    expect([o.images, o.exits, o.classes]).toEqual([3, 2, 4]);
    expect(Array.from(o.labels)).toEqual(labels);
    expect(o.logits).toHaveLength(2);
    expect(Array.from(o.logits[0] as Float32Array)).toEqual(logits[0]!.flat().map(Math.fround));
    expect(Array.from(o.logits[1] as Float32Array)).toEqual(logits[1]!.flat().map(Math.fround));
  });

  test('reads version 2, float16 logits, bit patterns included', async () => {
    // One image, one exit, 8 classes: 1, -2, 65504 (largest), 2^-24 (smallest subnormal),
    // 1/3 rounded, -0, Infinity, NaN.
    const halves = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x3555, 0x8000, 0x7c00, 0x7e00];
    const buf = Buffer.alloc(24 + 4 + 2 * halves.length);
    buf.write('EEROLGT1', 0, 'latin1');
    [2, 1, 1, halves.length].forEach((v, i) => buf.writeUInt32LE(v, 8 + 4 * i));
    buf.writeInt32LE(7, 24);
    halves.forEach((h, i) => buf.writeUInt16LE(h, 28 + 2 * i));
    const file = join(dir, 'outputs-test.bin');
    await writeFile(file, buf);
    const o = await readExitOutputs(file);
    expect(Array.from(o.labels)).toEqual([7]);
    expect(Array.from(o.logits[0] as Float32Array)).toEqual([
      1,
      -2,
      65504,
      Math.fround(2 ** -24),
      Math.fround(0.333251953125),
      -0,
      Infinity,
      NaN,
    ]);
  });

  test('a version 2 file sized for float32 is rejected as padded', async () => {
    const file = join(dir, 'outputs-test.bin');
    const bytes = encodeOutputs(labels, logits);
    bytes.writeUInt32LE(2, 8);
    await writeFile(file, bytes);
    expect((await eeroFailure(readExitOutputs(file))).message).toMatch(/truncated or padded/);
  });

  test.each([
    ['truncated', (b: Buffer) => b.subarray(0, b.length - 4), /truncated or padded/],
    ['padded', (b: Buffer) => Buffer.concat([b, Buffer.alloc(4)]), /truncated or padded/],
    ['shorter than the header', (b: Buffer) => b.subarray(0, 10), /header/],
    ['bad magic', (b: Buffer) => (b.write('XXXX', 0, 'latin1'), b), /magic/],
    ['bad version', (b: Buffer) => (b.writeUInt32LE(3, 8), b), /version 3/],
    ['huge N in header', (b: Buffer) => (b.writeUInt32LE(0xffffffff, 12), b), /expected/],
  ])('%s → MODEL_INVALID naming the file', async (_name, mangle, why) => {
    const file = join(dir, 'outputs-calibration.bin');
    await writeFile(file, mangle(encodeOutputs(labels, logits)));
    const e = await eeroFailure(readExitOutputs(file));
    expect(e.code).toBe('MODEL_INVALID');
    expect(e.message.startsWith(`${file}: `)).toBe(true);
    expect(e.message).toMatch(why);
  });

  test('missing file → MODEL_FILE_MISSING', async () => {
    const e = await eeroFailure(readExitOutputs(join(dir, 'nope.bin')));
    expect(e.code).toBe('MODEL_FILE_MISSING');
  });
});

describe('readBundleOutputs', () => {
  test('checks the file against the manifest', async () => {
    const fake = await writeFakeBundle(dir, 2);
    const bytes = encodeOutputs(labels, logits);
    await writeFile(join(dir, 'outputs-test.bin'), bytes);
    fake.manifest.outputs.test.sha256 = createHash('sha256').update(bytes).digest('hex');
    await fake.save();
    const bundle = await loadBundle(dir);
    const o = await readBundleOutputs(bundle, 'test');
    expect(o.images).toBe(3);

    fake.manifest.outputs.test.sha256 = 'c'.repeat(64);
    await fake.save();
    const stale = await loadBundle(dir);
    expect((await eeroFailure(readBundleOutputs(stale, 'test'))).code).toBe('CHECKSUM_MISMATCH');
    fake.manifest.outputs.test.images = 4;
    await fake.save();
    const wrongCount = await loadBundle(dir);
    const e = await eeroFailure(readBundleOutputs(wrongCount, 'test', { verify: false }));
    expect(e.code).toBe('MODEL_INVALID');
    expect(e.message).toMatch(/images 3, manifest says 4/);
  });
});

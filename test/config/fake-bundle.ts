/** A synthetic bundle on disk (stage files are random bytes): for config tests, no ONNX needed. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface FakeBundle {
  dir: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests edit the YAML tree freely
  manifest: Record<string, any>;
  /** Rewrite manifest.yaml after editing `manifest`. */
  save(): Promise<void>;
}

export async function makeTempDir(prefix = 'eero-config-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export async function writeFakeBundle(dir: string, stageCount = 3): Promise<FakeBundle> {
  const labels = ['a', 'b', 'c', 'd'];
  const shapes = [
    [1, 8, 8],
    [4, 8, 8],
    [8, 4, 4],
    [16, 2, 2],
  ];
  const stages = [];
  for (let l = 0; l < stageCount; l++) {
    const bytes = randomBytes(256 + l);
    const file = `stage-${l + 1}.onnx`;
    await writeFile(join(dir, file), bytes);
    stages.push({
      file,
      sha256: sha(bytes),
      bytes: bytes.length,
      input: { name: 'input', shape: [-1, ...(shapes[l] as number[])] },
      ...(l < stageCount - 1 ? { features: { name: 'features', shape: [-1, ...(shapes[l + 1] as number[])] } } : {}),
      logits: { name: 'logits', shape: [-1, labels.length] },
    });
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests edit the YAML tree freely
  const manifest: Record<string, any> = {
    format: 1,
    name: 'fake',
    architecture: { family: 'resnet18', width: 4 },
    labels,
    input: {
      channels: 1,
      colorSpace: 'gray',
      height: 8,
      width: 8,
      resize: { width: 6, height: 6, fit: 'fill' },
      pad: [1, 1, 1, 1],
      background: [0, 0, 0],
      scale: 255,
      mean: [0.5],
      std: [0.25],
    },
    stages,
    exits: stages.map((_, l) => ({ exit: l + 1, macs: 1000 * (l + 1), calibrationAccuracy: 0.5, testAccuracy: 0.5 })),
    outputs: {
      calibration: { file: 'outputs-calibration.bin', sha256: 'a'.repeat(64), images: 3 },
      test: { file: 'outputs-test.bin', sha256: 'b'.repeat(64), images: 3 },
    },
    fixtures: { folder: 'fixtures', logits: 'fixtures/logits.json' },
    training: { data: 'fake' },
  };
  const bundle: FakeBundle = {
    dir,
    manifest,
    save: () => writeFile(join(dir, 'manifest.yaml'), stringify(manifest)),
  };
  await bundle.save();
  return bundle;
}

/** An outputs-*.bin image per FORMAT.md. */
export function encodeOutputs(labels: number[], logits: number[][][] /* [exit][image][class] */): Buffer {
  const n = labels.length;
  const m = logits.length;
  const k = logits[0]?.[0]?.length ?? 0;
  const buf = Buffer.alloc(24 + 4 * n + 4 * m * n * k);
  buf.write('EEROLGT1', 0, 'latin1');
  buf.writeUInt32LE(1, 8);
  buf.writeUInt32LE(n, 12);
  buf.writeUInt32LE(m, 16);
  buf.writeUInt32LE(k, 20);
  labels.forEach((v, i) => buf.writeInt32LE(v, 24 + 4 * i));
  let offset = 24 + 4 * n;
  for (const exit of logits) {
    for (const row of exit) {
      for (const v of row) {
        buf.writeFloatLE(v, offset);
        offset += 4;
      }
    }
  }
  return buf;
}

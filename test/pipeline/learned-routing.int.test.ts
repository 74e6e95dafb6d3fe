/**
 * The learned score served: a bundle that names its learned-score file routes `score=learned` by the
 * learned rule (on the one graph, which computes the learned score, exactly as the router simulates it
 * on the same logits); a file that does not match the bundle fails at load naming the file and the
 * field; a bundle without one still serves every other score. The shipped ResNet bundle, real sessions.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { EeroError } from '../../src/errors';
import { createClassifier, loadModel, type LoadedModel } from '../../src/pipeline';
import { evaluatePolicy, type ExitOutputs } from '../../src/router';
import { RESNET_BUNDLE } from '../support/bundles';

const fixtureDir = path.join(RESNET_BUNDLE, 'fixtures');
const fixtures = readdirSync(fixtureDir)
  .filter((f) => f.endsWith('.png'))
  .sort()
  .map((f) => new Uint8Array(readFileSync(path.join(fixtureDir, f))));
const torchLogits = (JSON.parse(readFileSync(path.join(fixtureDir, 'logits.json'), 'utf8')) as { logits: number[][][] }).logits;

let model: LoadedModel;
const copies: string[] = [];
beforeAll(async () => {
  model = await loadModel(RESNET_BUNDLE, { budget: { fraction: 1 }, ledger: false }, { engine: { intraOpThreads: 1 }, clock: () => 0 });
});
afterAll(async () => {
  await model?.dispose();
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the shipped bundle whose learned-score file or manifest `edit` changes. */
function bundleCopy(edit: (dir: string) => void): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'eero-learned-'));
  copies.push(dir);
  cpSync(RESNET_BUNDLE, dir, { recursive: true });
  edit(dir);
  return dir;
}

function fixtureOutputs(): ExitOutputs {
  const n = torchLogits.length;
  const m = model.costs.costs.length;
  const logits = Array.from({ length: m }, (_, l) => Float32Array.from(torchLogits.flatMap((img) => img[l] as number[])));
  return { images: n, exits: m, classes: model.labels.length, labels: new Int32Array(n).fill(-1), logits };
}

describe('the learned score, served', () => {
  it('routes score=learned by the learned rule, each image where the router simulation on torch logits says', async () => {
    const classifier = createClassifier(model, { batching: { maxBatch: 64, maxWaitMs: 0, maxQueue: 256 }, limitInputPixels: 1e6 });
    for (const f of [0.25, 0.3, 0.4]) {
      const routing = { score: 'learned' as const, budget: { fraction: f } };
      const choice = model.routing.choose(routing);
      expect(choice.rule).toBe('learned');
      expect(choice.policy.scoring.score).toBe('learned');
      const answer = await classifier.classify(fixtures, { routing, key: 0 });
      const sim = evaluatePolicy(choice.policy, fixtureOutputs(), model.costs.costs);
      expect(answer.outcomes.map((o) => (o.ok ? o.result.exit - 1 : -1))).toEqual(Array.from(sim.exitOf));
      expect(answer.outcomes.map((o) => (o.ok ? o.result.classIndex : -1))).toEqual(Array.from(sim.predictions));
    }
    await classifier.drain();
  });

  it('refuses at load a learned-score file that does not match the bundle, naming the file and the field', async () => {
    const dir = bundleCopy((d) => {
      const file = path.join(d, 'learned-score.json');
      const params = JSON.parse(readFileSync(file, 'utf8')) as { classes: number };
      params.classes = 7;
      const text = `${JSON.stringify(params, null, 1)}\n`;
      writeFileSync(file, text);
      // Keep the checksum right: the mismatch is in what the file says, not in its bytes.
      const manifest = path.join(d, 'manifest.yaml');
      const sha = createHash('sha256').update(text).digest('hex');
      const lines = readFileSync(manifest, 'utf8').replace(
        /^learnedScore:.*$/m,
        `learnedScore: { file: learned-score.json, sha256: ${sha}, bytes: ${Buffer.byteLength(text)} }`,
      );
      writeFileSync(manifest, lines);
    });
    const err = (await loadModel(dir, {}, { engine: { intraOpThreads: 1 }, verify: true }).catch((e: unknown) => e)) as EeroError;
    expect(err).toBeInstanceOf(EeroError);
    expect(err.code).toBe('MODEL_INVALID');
    expect(err.message).toContain(path.join(dir, 'learned-score.json'));
    expect(err.message).toMatch(/classes: the bundle has 10 classes, the learned score was fitted for 7/);
  });

  it('serves every other score from a bundle without a learned-score file, and refuses score=learned with why', async () => {
    const dir = bundleCopy((d) => {
      const manifest = path.join(d, 'manifest.yaml');
      writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(/^learnedScore:.*\n/m, ''));
    });
    const plain = await loadModel(dir, {}, { engine: { intraOpThreads: 1 } });
    try {
      expect(plain.routing.choose({ score: 'entropy' }).rule).toBe('eero');
      const err = (() => {
        try {
          plain.routing.choose({ score: 'learned' });
        } catch (e) {
          return e as EeroError;
        }
        return undefined;
      })();
      expect(err?.code).toBe('BAD_PARAMETER');
      expect(err?.message).toMatch(/no learned score/);
    } finally {
      await plain.dispose();
    }
  });
});

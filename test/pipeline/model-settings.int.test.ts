/**
 * A policy file, serve flags and classify flags are read one way (loaded-model.ts, routing-request.ts).
 * Each case here was a drift between the serve and classify readings, or a field validated then ignored.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { serveCommand } from '../../src/cli/commands/serve';
import { loadModel, type LoadedModel, type ModelSettings } from '../../src/pipeline';
import type { ThresholdPolicy } from '../../src/router';
import { RESNET_BUNDLE } from '../support/bundles';

const dir = mkdtempSync(path.join(tmpdir(), 'eero-settings-'));
const SHIPPED = path.join(__dirname, '..', '..', 'budgets', 'resnet18-fmnist-0.5.yaml');

function policy(name: string, lines: string[]): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, ['name: ' + name, 'model: resnet18-fmnist', ...lines].join('\n') + '\n');
  return file;
}

async function withModel<T>(settings: ModelSettings, use: (m: LoadedModel) => T | Promise<T>): Promise<T> {
  const m = await loadModel(RESNET_BUNDLE, settings, { engine: { intraOpThreads: 1, graph: 'stages' } });
  try {
    return await use(m);
  } finally {
    await m.dispose();
  }
}

const thresholdsOf = (m: LoadedModel): number[] => Array.from((m.routing.choose({}).policy as ThresholdPolicy).thresholds);

describe('one reading of policy files and flags', () => {
  test("a policy's accuracy target is honoured (serve once dropped it)", async () => {
    const file = policy('agree', ['budget: 0.6', 'accuracyTarget: 0.99']);
    await withModel({ policyFile: file }, (m) => {
      expect(m.routing.choose({}).rule).toBe('accuracy-target');
      expect(m.routing.limitFraction).toBeCloseTo(0.6, 12);
    });
  });

  test("a policy's cost unit is honoured: seconds are measured at load", async () => {
    // The whole budget: on a loaded machine the measured exit 1 can cost more than half the full model (refused then, rightly).
    const file = policy('seconds', ['budget: 1', 'costUnit: seconds']);
    await withModel({ policyFile: file, profileBatch: 4 }, (m) => {
      expect(m.costs.unit).toBe('seconds');
      expect(m.costs.seconds?.length).toBe(m.manifest.exits.length);
    });
  });

  test('a policy made for another model is refused, naming the file and the field', async () => {
    const file = path.join(dir, 'other.yaml');
    writeFileSync(file, 'name: other\nmodel: convnext-fmnist\nbudget: 0.5\n');
    await expect(loadModel(RESNET_BUNDLE, { policyFile: file })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(
        new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: model: the policy was made for "convnext-fmnist"`),
      ),
    });
  });

  test('pinned thresholds serve their own budget and scoring only: another budget or score recomputes them', async () => {
    const pinned = (readFileSync(SHIPPED, 'utf8').match(/thresholds:\n((?:\s+- .+\n)+)/)?.[1] ?? '')
      .trim()
      .split('\n')
      .map((l) => (l.includes('inf') ? -Infinity : Number(l.replace(/^\s*-\s*/, ''))));
    await withModel({ policyFile: SHIPPED }, (m) => {
      expect(m.routing.choose({}).rule).toBe('pinned');
      expect(thresholdsOf(m)).toEqual(pinned);
    });
    await withModel({ policyFile: SHIPPED, budget: { fraction: 0.3 } }, (m) => {
      expect(m.routing.choose({}).rule).toBe('eero');
      expect(m.routing.choose({}).budget / m.costs.full).toBeCloseTo(0.3, 12);
    });
    await withModel({ policyFile: SHIPPED, routing: { score: 'entropy' } }, (m) => {
      expect(m.routing.choose({}).rule).toBe('eero');
      expect(m.routing.choose({}).policy.scoring.score).toBe('entropy');
    });
  });

  test('a recalibration replaces pinned thresholds too', async () => {
    await withModel({ policyFile: SHIPPED }, async (m) => {
      const before = thresholdsOf(m);
      await m.routing.recalibrate(m.routing.calibration);
      expect(m.routing.choose({}).rule).toBe('eero');
      expect(m.routing.choose({}).version).toBe(2);
      // Recomputed by EERO from the same calibration: equal to what `eero calibrate` pinned, not merely kept.
      thresholdsOf(m).forEach((t, l) => expect(t).toBeCloseTo(before[l] as number, 12));
    });
  });

  test('eero serve --budget "1 MACs" is one MAC (refused as infeasible), not a fraction of 1', async () => {
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await expect(serveCommand.run(['--port', '0', '--budget', '1 MACs'])).rejects.toMatchObject({ code: 'BUDGET_INFEASIBLE' });
    } finally {
      err.mockRestore();
    }
  });
});

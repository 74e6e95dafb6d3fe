/** Descriptions of a served model: GET /v1/models, and the KServe v2 model metadata. */
import type { ServedModelEntry } from './server-types';

export function describeModel(entry: ServedModelEntry): Record<string, unknown> {
  const { runtime } = entry;
  const m = runtime.manifest;
  const fullMacs = runtime.macs[runtime.macs.length - 1] as number;
  const fullCost = runtime.costs[runtime.costs.length - 1] as number;
  const choice = runtime.budgets.choose({ ...entry.defaults, ledger: false });
  return {
    name: entry.name,
    bundle: m.name,
    architecture: m.architecture.family ?? null,
    input: { channels: m.input.channels, height: m.input.height, width: m.input.width, colorSpace: m.input.colorSpace },
    labels: runtime.labels,
    costUnit: runtime.costUnit,
    exits: m.exits.map((e, i) => ({
      exit: e.exit,
      macs: e.macs,
      fraction: (runtime.costs[i] as number) / fullCost,
      testAccuracy: e.testAccuracy,
    })),
    fullMacs,
    defaultBudget: { policy: choice.name, fraction: choice.fraction, ledger: entry.defaults.ledger !== false },
    feasibleBudget: { min: (runtime.costs[0] as number) / fullCost, max: 1 },
    ready: entry.warmed,
  };
}

/** KServe Open Inference Protocol v2 model metadata. */
export function v2Metadata(entry: ServedModelEntry): Record<string, unknown> {
  const k = entry.runtime.labels.length;
  return {
    name: entry.name,
    versions: ['1'],
    platform: 'eero',
    inputs: [{ name: 'image', datatype: 'BYTES', shape: [-1] }],
    outputs: [
      { name: 'label', datatype: 'BYTES', shape: [-1] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, k] },
      { name: 'exit', datatype: 'INT32', shape: [-1] },
      { name: 'cost_fraction', datatype: 'FP32', shape: [-1] },
      { name: 'forced', datatype: 'BOOL', shape: [-1] },
    ],
    parameters: { labels: entry.runtime.labels.join(','), exits: entry.runtime.costs.length },
  };
}

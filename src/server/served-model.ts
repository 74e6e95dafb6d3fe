/** A loaded model behind the routes: its one classify path, its description, and its metrics. */
import type { EeroMetrics } from '../metrics';
import type { Classifier, LoadedModel } from '../pipeline';
import type { ModelDescription, ServedModel } from './server-types';

export function describeModel(name: string, model: LoadedModel): ModelDescription {
  const m = model.manifest;
  const { costs, routing } = model;
  const family = m.architecture.family;
  return {
    name,
    bundle: m.name,
    architecture: typeof family === 'string' ? family : null,
    input: { channels: m.input.channels, height: m.input.height, width: m.input.width, colorSpace: m.input.colorSpace },
    labels: model.labels,
    costUnit: costs.unit,
    exits: m.exits.map((e, i) => ({
      exit: e.exit,
      macs: e.macs,
      fraction: (costs.costs[i] as number) / costs.full,
      testAccuracy: e.testAccuracy,
    })),
    fullMacs: costs.fullMacs,
    budget: { limit: routing.limitFraction, source: model.source, ledger: routing.ledger !== undefined, rule: routing.choose({}).rule },
    feasibleBudget: { min: (costs.costs[0] as number) / costs.full, max: routing.limitFraction },
  };
}

export function servedModel(
  name: string,
  model: LoadedModel,
  classifier: Classifier,
  metrics: EeroMetrics,
  isReady: () => boolean,
): ServedModel {
  const description = describeModel(name, model);
  const { scale, mean, std } = model.manifest.input;
  return {
    name,
    describe: () => description,
    normalisation: { scale, mean, std },
    async classify(images, request) {
      const answer = await classifier.classify(images, request);
      metrics.observeRequestedBudget(name, answer.choice.fraction);
      return answer;
    },
    get ready() {
      return isReady();
    },
    ...(classifier.monitor ? { recalibrate: () => (classifier.monitor as NonNullable<Classifier['monitor']>).recalibrate() } : {}),
  };
}

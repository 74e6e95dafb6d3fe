/** The path of an image, composed: preprocess -> batcher -> engine with the router and ledger deciding exits -> results. */
export { createClassifier, type ClassifyAnswer, type Classifier, type ClassifierOptions, type ClassifyRequest, type ImageOutcome, type ImageTimings } from './classifier';
export { loadModel, type LoadedModel, type LoadOptions, type ModelSettings } from './loaded-model';
export type { ModelCosts } from './model-costs';
export { ModelRouting, type RouteChoice, type RoutingRule } from './model-routing';
export type { ImageResult, StopReason, TopKEntry, TraceEntry } from './results';
export { flagName, paramName, routingFromPolicy, toRoutingRequest, type RawRouting, type RoutingRequest } from './routing-request';
export { runDirect, type RunReport, type StageTiming } from './run-batch';

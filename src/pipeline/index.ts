/** The path of an image, composed: preprocess -> batcher -> engine with the router and ledger deciding exits -> results. */
export { createClassifier, type ClassifyAnswer, type Classifier, type ClassifyRequest, type ImageOutcome } from './classifier';
export { loadModel, type LoadedModel } from './loaded-model';
export { type RouteChoice } from './model-routing';
export type { ImageResult } from './results';
export { ANSWER_OPTIONS, ROUTING_OPTIONS } from './options/routing-options';
export { routingFrom, surfaceNamer, toRoutingRequest, type RoutingRequest } from './routing-request';
export { runDirect } from './run-batch';
export { describePaths, type PathOption } from './path-choice';
export { calibrateBundle, realisedTimeFraction, type CalibrationResult, type Certification } from './calibrate-bundle';
export { fitLearnedScore } from './fit-learned';
export { type ClassifyInput } from './tensor-input';
/** @internal For the tests. */
export { routingFromPolicy } from './routing-request';
/** @internal For the tests. */
export { type ModelSettings } from './loaded-model';

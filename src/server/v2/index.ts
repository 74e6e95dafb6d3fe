/** The Open Inference Protocol (KServe v2): REST routes here, the gRPC service in ../grpc, both on the same inference core. */
export { addV2Routes, bodyLimits } from './rest-routes';
export { runInfer, type InferAnswer, type InferCall, type ParameterValue } from './infer';
export { checkVersion, modelMetadata, modelReady, serverMetadata } from './metadata';
export { checkInputHead, classifyInputs, rawInputData, requestValueLimit, type InputData, type InputHead } from './model-inputs';
export { packageRoot } from './package-root';
export { flag, tensorBytes, type OutputTensor } from './outputs';

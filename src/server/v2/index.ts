/** The Open Inference Protocol (KServe v2): REST routes here, the gRPC service in ../grpc, both on the same inference core. */
export { addV2Routes, bodyLimits } from './rest-routes';
export { runInfer, checkImageCount, type InferAnswer, type InferCall, type ParameterValue } from './infer';
export { checkVersion, modelMetadata, modelReady, serverMetadata, MODEL_VERSION, type ModelMetadata } from './metadata';
export { checkInputHead, classifyInputs, type InputData, type InputHead } from './model-inputs';
export { readFloat32, splitBytesElements } from './datatypes';
export { tensorBytes } from './rest-response';
export { packageRoot } from './package-root';
export type { RequestedOutput } from './outputs';

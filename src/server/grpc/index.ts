/** The Open Inference Protocol over gRPC (inference.GRPCInferenceService) and grpc.health.v1, on the v2 inference core. */
export { listenGrpc, type GrpcListening } from './grpc-server';
/** @internal For the tests. */
export { LOADER_OPTIONS, loadProto } from './proto-files';

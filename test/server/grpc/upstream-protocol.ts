/**
 * The upstream definitions our proto/ files must match on the wire, as a
 * table: names, field numbers and types, transcribed from KServe's
 * docs/predict-api/v2/grpc_predict_v2.proto (kserve/kserve aaac4e29), Triton's
 * protobuf/grpc_service.proto (triton-inference-server/common 83adf7cf) and
 * grpc/grpc's src/proto/grpc/health/v1/health.proto (03b89f47). Only what we
 * serve is listed. proto-files.test.ts checks our files against it, and the
 * gRPC integration tests build their clients from it (protocol-table.ts), so
 * they talk to the server as a client generated from the upstream file would.
 *
 * A field is "number type", with "repeated T" and "map<K, V>" as in .proto;
 * a nested message is "Outer.Inner"; a method is "Request -> Response", with
 * "stream" before a streamed side.
 */
import type { ProtocolTable } from './protocol-table';

/** The Open Inference Protocol as KServe publishes it. */
export const KSERVE: ProtocolTable = {
  package: 'inference',
  service: 'GRPCInferenceService',
  methods: {
    ServerLive: 'ServerLiveRequest -> ServerLiveResponse',
    ServerReady: 'ServerReadyRequest -> ServerReadyResponse',
    ModelReady: 'ModelReadyRequest -> ModelReadyResponse',
    ServerMetadata: 'ServerMetadataRequest -> ServerMetadataResponse',
    ModelMetadata: 'ModelMetadataRequest -> ModelMetadataResponse',
    ModelInfer: 'ModelInferRequest -> ModelInferResponse',
  },
  messages: {
    ServerLiveRequest: {},
    ServerLiveResponse: { live: '1 bool' },
    ServerReadyRequest: {},
    ServerReadyResponse: { ready: '1 bool' },
    ModelReadyRequest: { name: '1 string', version: '2 string' },
    ModelReadyResponse: { ready: '1 bool' },
    ServerMetadataRequest: {},
    ServerMetadataResponse: { name: '1 string', version: '2 string', extensions: '3 repeated string' },
    ModelMetadataRequest: { name: '1 string', version: '2 string' },
    ModelMetadataResponse: {
      name: '1 string',
      versions: '2 repeated string',
      platform: '3 string',
      inputs: '4 repeated TensorMetadata',
      outputs: '5 repeated TensorMetadata',
    },
    'ModelMetadataResponse.TensorMetadata': { name: '1 string', datatype: '2 string', shape: '3 repeated int64' },
    ModelInferRequest: {
      model_name: '1 string',
      model_version: '2 string',
      id: '3 string',
      parameters: '4 map<string, InferParameter>',
      inputs: '5 repeated InferInputTensor',
      outputs: '6 repeated InferRequestedOutputTensor',
      raw_input_contents: '7 repeated bytes',
    },
    'ModelInferRequest.InferInputTensor': {
      name: '1 string',
      datatype: '2 string',
      shape: '3 repeated int64',
      parameters: '4 map<string, InferParameter>',
      contents: '5 InferTensorContents',
    },
    'ModelInferRequest.InferRequestedOutputTensor': { name: '1 string', parameters: '2 map<string, InferParameter>' },
    ModelInferResponse: {
      model_name: '1 string',
      model_version: '2 string',
      id: '3 string',
      parameters: '4 map<string, InferParameter>',
      outputs: '5 repeated InferOutputTensor',
      raw_output_contents: '6 repeated bytes',
    },
    'ModelInferResponse.InferOutputTensor': {
      name: '1 string',
      datatype: '2 string',
      shape: '3 repeated int64',
      parameters: '4 map<string, InferParameter>',
      contents: '5 InferTensorContents',
    },
    InferParameter: { bool_param: '1 bool', int64_param: '2 int64', string_param: '3 string' },
    InferTensorContents: {
      bool_contents: '1 repeated bool',
      int_contents: '2 repeated int32',
      int64_contents: '3 repeated int64',
      uint_contents: '4 repeated uint32',
      uint64_contents: '5 repeated uint64',
      fp32_contents: '6 repeated float',
      fp64_contents: '7 repeated double',
      bytes_contents: '8 repeated bytes',
    },
  },
  oneofs: { InferParameter: { parameter_choice: ['bool_param', 'int64_param', 'string_param'] } },
  enums: {},
};

/**
 * Triton's service, the part we serve: KServe's plus ModelStreamInfer and two
 * parameter kinds. Its other methods (ModelConfig, ModelStatistics, the
 * repository, shared-memory, trace and log methods) are not served.
 */
export const TRITON: ProtocolTable = {
  ...KSERVE,
  methods: { ...KSERVE.methods, ModelStreamInfer: 'stream ModelInferRequest -> stream ModelStreamInferResponse' },
  messages: {
    ...KSERVE.messages,
    InferParameter: { ...KSERVE.messages.InferParameter, double_param: '4 double', uint64_param: '5 uint64' },
    ModelStreamInferResponse: { error_message: '1 string', infer_response: '2 ModelInferResponse' },
  },
  oneofs: { InferParameter: { parameter_choice: ['bool_param', 'int64_param', 'string_param', 'double_param', 'uint64_param'] } },
};

/** A method of Triton's service that we do not serve, with its request: an empty ModelConfigRequest is valid. */
export const TRITON_UNSERVED_METHOD = 'ModelConfig';

/** grpc.health.v1 as gRPC publishes it. */
export const HEALTH: ProtocolTable = {
  package: 'grpc.health.v1',
  service: 'Health',
  methods: {
    Check: 'HealthCheckRequest -> HealthCheckResponse',
    Watch: 'HealthCheckRequest -> stream HealthCheckResponse',
  },
  messages: {
    HealthCheckRequest: { service: '1 string' },
    HealthCheckResponse: { status: '1 ServingStatus' },
  },
  oneofs: {},
  enums: { 'HealthCheckResponse.ServingStatus': { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } },
};

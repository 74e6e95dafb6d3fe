/**
 * Our .proto files against the upstream definitions (upstream-protocol.ts):
 * a client generated from KServe's grpc_predict_v2.proto, Triton's
 * grpc_service.proto or gRPC's health.proto writes the same bytes as ours.
 */
import { LOADER_OPTIONS, loadProto } from '../../../src/server/grpc';
import { definitionOf, tableOf } from './protocol-table';
import { HEALTH, KSERVE, TRITON } from './upstream-protocol';

const inference = (): ReturnType<typeof tableOf> => tableOf(loadProto('inference.proto'), 'inference', 'GRPCInferenceService');

describe('proto/inference.proto', () => {
  test("has Triton's names, field numbers, types, oneof and methods for all it serves, and nothing of its own", () => {
    expect(inference()).toEqual(TRITON);
  });

  test("holds every message, field and method of KServe's grpc_predict_v2.proto unchanged", () => {
    const ours = inference();
    for (const [method, signature] of Object.entries(KSERVE.methods)) expect([method, ours.methods[method]]).toEqual([method, signature]);
    for (const [message, fields] of Object.entries(KSERVE.messages)) {
      for (const [field, text] of Object.entries(fields))
        expect([message, field, ours.messages[message]?.[field]]).toEqual([message, field, text]);
    }
    // Triton's two extra kinds are in the same oneof, after KServe's three, so a KServe client's parameters decode as before.
    expect(ours.oneofs.InferParameter?.parameter_choice?.slice(0, 3)).toEqual(KSERVE.oneofs.InferParameter?.parameter_choice);
  });
});

describe('proto/health.proto', () => {
  test("is grpc.health.v1's Health: Check, Watch, the request, the answer and the four statuses with the standard's numbers", () => {
    expect(tableOf(loadProto('health.proto'), 'grpc.health.v1', 'Health')).toEqual(HEALTH);
  });
});

describe('the upstream tables the integration tests build their clients from', () => {
  test.each([
    ['KServe', KSERVE],
    ['Triton', TRITON],
    ['health', HEALTH],
  ])('%s: a definition built from the table reads back as the same table', (_, table) => {
    expect(tableOf(definitionOf(table, LOADER_OPTIONS), table.package, table.service)).toEqual(table);
  });
});

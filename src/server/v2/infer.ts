/**
 * One v2 inference, whatever the transport (REST JSON, REST binary, gRPC):
 * the request's images or tensors go to the model's one classify path (its
 * batcher and ledger) and come back as the outputs asked for. All or nothing:
 * the first bad image fails the inference, `input image i: message`.
 */
import { EeroError } from '../../errors';
import type { ClassifyInput } from '../../pipeline';
import type { Asker } from '../client-key';
import { untilAborted } from '../deadline';
import { parseParams, type RawParams } from '../params';
import { screenImage } from '../screen-image';
import type { AppDeps, ServedModel } from '../server-types';
import { MODEL_VERSION } from './metadata';
import { buildOutputs, flag, wantedOutputs, type OutputTensor, type RequestedOutput } from './outputs';

/** A decoded inference request. */
export interface InferCall {
  id: string | undefined;
  parameters: RawParams;
  /** One per image. */
  inputs: ClassifyInput[];
  /** Undefined or empty: the default outputs. */
  outputs: RequestedOutput[] | undefined;
}

export type ParameterValue = string | number | boolean;

export interface InferAnswer {
  modelName: string;
  modelVersion: string;
  id: string | undefined;
  parameters: Record<string, ParameterValue>;
  outputs: OutputTensor[];
}

/**
 * `call` as the transports decode it (rest-request.ts, grpc/codec.ts), which refuse more than
 * limits.filesPerRequest images from the shape. `asker`: who asks (an API key or an address), for the
 * per-client limits on new expensive rules, and from which address and connection, for fair shares of
 * the queue.
 */
export async function runInfer(
  deps: AppDeps,
  model: ServedModel,
  call: InferCall,
  signal: AbortSignal,
  asker: Asker,
): Promise<InferAnswer> {
  const params = parseParams([call.parameters], 'v2');
  const binary = flag(call.parameters, 'binary_data_output') ?? false;
  const wanted = wantedOutputs(call.outputs, binary, { topk: params.topkGiven, trace: params.trace });
  const described = model.describe();
  const classes = described.labels.length;
  const screened = call.inputs.map((input) => (input instanceof Uint8Array ? (screenImage(input, undefined) ?? input) : input));
  // Full probabilities are an output: ask the pipeline for every class.
  const answer = await untilAborted(
    model.classify(screened, {
      routing: params.routing,
      topk: classes,
      trace: wanted.some((w) => w.name === 'trace'),
      signal,
      ...asker,
    }),
    signal,
  );
  const ok = answer.outcomes.map((o, i) => {
    if (o.ok) return o;
    throw new EeroError(o.error.code, `input image ${i}: ${o.error.message}`, {
      cause: o.error,
      ...(o.error.details ? { details: o.error.details } : {}),
    });
  });
  return {
    modelName: model.name,
    modelVersion: MODEL_VERSION,
    id: call.id,
    parameters: {
      budget_limit: described.budget.limit,
      budget_fraction: answer.choice.fraction,
      budget_rule: answer.choice.rule,
      thresholds_version: answer.choice.version,
    },
    outputs: buildOutputs(wanted, ok, classes, params.topk),
  };
}

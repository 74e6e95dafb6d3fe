/**
 * The v2 outputs of a classification: which exist, which a request asked for
 * (its `outputs` list, with Triton's `binary_data` and `classification`
 * parameters), and their tensors built from the pipeline's answers.
 */
import { EeroError } from '../../errors';
import type { ImageOutcome } from '../../pipeline';
import type { RawParams } from '../params';
import { boolBytes, float32Bytes, int32Bytes, joinBytesElements } from './datatypes';
import { shown } from './model-inputs';

export const OUTPUT_NAMES = [
  'label',
  'probabilities',
  'exit',
  'cost_fraction',
  'forced',
  'topk_labels',
  'topk_probabilities',
  'trace',
] as const;
export type OutputName = (typeof OUTPUT_NAMES)[number];

/** Every output of a model with `classes` classes, as model metadata lists it (-1: varies per request). */
export function outputMetadata(classes: number): Array<{ name: OutputName; datatype: string; shape: number[] }> {
  return [
    { name: 'label', datatype: 'BYTES', shape: [-1] },
    { name: 'probabilities', datatype: 'FP32', shape: [-1, classes] },
    { name: 'exit', datatype: 'INT32', shape: [-1] },
    { name: 'cost_fraction', datatype: 'FP32', shape: [-1] },
    { name: 'forced', datatype: 'BOOL', shape: [-1] },
    { name: 'topk_labels', datatype: 'BYTES', shape: [-1, -1] },
    { name: 'topk_probabilities', datatype: 'FP32', shape: [-1, -1] },
    { name: 'trace', datatype: 'BYTES', shape: [-1] },
  ];
}

/** An output as a request asks for it. */
export interface RequestedOutput {
  name: string;
  parameters: RawParams;
}

/** An output to build: its name, whether it goes out as binary data (REST), and a classification count. */
export interface WantedOutput {
  name: OutputName;
  binary: boolean;
  classification: number | undefined;
}

export type OutputTensor = { name: string; shape: number[]; binary: boolean } & (
  { datatype: 'BYTES'; data: string[] } | { datatype: 'FP32' | 'INT32'; data: number[] } | { datatype: 'BOOL'; data: boolean[] }
);

function bad(message: string): EeroError {
  return new EeroError('BAD_PARAMETER', message);
}

/** A boolean parameter (true, false, 1, 0, "true", "false"); undefined when absent. */
export function flag(raw: RawParams, name: string): boolean | undefined {
  const v = raw[name];
  if (v === undefined || v === null) return undefined;
  if (v === true || v === 1 || v === 'true' || v === '1') return true;
  if (v === false || v === 0 || v === 'false' || v === '0') return false;
  throw bad(`parameter "${name}" must be true or false, got ${shown(v)}`);
}

function classification(raw: RawParams, output: string): number | undefined {
  const v = raw.classification;
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 1) throw bad(`output "${output}": classification must be an integer >= 1, got ${shown(v)}`);
  if (output !== 'probabilities') throw bad(`output "${output}": classification applies to the "probabilities" output only`);
  return n;
}

/**
 * What to build: the outputs named (each at most once), else the defaults:
 * label, probabilities, exit, cost_fraction, forced, plus topk_* when the
 * request named topk and trace when it asked for one.
 */
export function wantedOutputs(
  requested: readonly RequestedOutput[] | undefined,
  binaryDefault: boolean,
  extras: { topk: boolean; trace: boolean },
): WantedOutput[] {
  if (requested === undefined || requested.length === 0) {
    const names: OutputName[] = ['label', 'probabilities', 'exit', 'cost_fraction', 'forced'];
    if (extras.topk) names.push('topk_labels', 'topk_probabilities');
    if (extras.trace) names.push('trace');
    return names.map((name) => ({ name, binary: binaryDefault, classification: undefined }));
  }
  const seen = new Set<string>();
  return requested.map((r) => {
    if (!(OUTPUT_NAMES as readonly string[]).includes(r.name)) {
      throw new EeroError('BAD_REQUEST', `unknown output ${shown(r.name)}; this model has ${OUTPUT_NAMES.join(', ')}`);
    }
    if (seen.has(r.name)) throw new EeroError('BAD_REQUEST', `output "${r.name}" is asked for twice`);
    seen.add(r.name);
    return {
      name: r.name as OutputName,
      binary: flag(r.parameters, 'binary_data') ?? binaryDefault,
      classification: classification(r.parameters, r.name),
    };
  });
}

type Answer = Extract<ImageOutcome, { ok: true }>;

/** Full probabilities per image (the pipeline was asked for every class). */
function probabilities(answers: readonly Answer[], classes: number): number[] {
  const probs = new Array<number>(answers.length * classes).fill(0);
  answers.forEach((a, i) => {
    for (const t of a.result.topk) probs[i * classes + t.classIndex] = t.probability;
  });
  return probs;
}

/** Triton's classification extension: "<value>:<index>:<label>" for the top `count` classes, best first. */
function classified(answers: readonly Answer[], count: number): string[] {
  return answers.flatMap((a) => a.result.topk.slice(0, count).map((t) => `${t.probability}:${t.classIndex}:${t.label}`));
}

export function buildOutputs(wanted: readonly WantedOutput[], answers: readonly Answer[], classes: number, topk: number): OutputTensor[] {
  const n = answers.length;
  const k = Math.min(topk, classes);
  const top = (a: Answer): Answer['result']['topk'] => a.result.topk.slice(0, k);
  return wanted.map(({ name, binary, classification: count }): OutputTensor => {
    switch (name) {
      case 'label':
        return { name, binary, datatype: 'BYTES', shape: [n], data: answers.map((a) => a.result.label) };
      case 'probabilities':
        if (count !== undefined) {
          const c = Math.min(count, classes);
          return { name, binary, datatype: 'BYTES', shape: [n, c], data: classified(answers, c) };
        }
        return { name, binary, datatype: 'FP32', shape: [n, classes], data: probabilities(answers, classes) };
      case 'exit':
        return { name, binary, datatype: 'INT32', shape: [n], data: answers.map((a) => a.result.exit) };
      case 'cost_fraction':
        return { name, binary, datatype: 'FP32', shape: [n], data: answers.map((a) => a.result.costFraction) };
      case 'forced':
        return { name, binary, datatype: 'BOOL', shape: [n], data: answers.map((a) => a.result.forced) };
      case 'topk_labels':
        return { name, binary, datatype: 'BYTES', shape: [n, k], data: answers.flatMap((a) => top(a).map((e) => e.label)) };
      case 'topk_probabilities':
        return { name, binary, datatype: 'FP32', shape: [n, k], data: answers.flatMap((a) => top(a).map((e) => e.probability)) };
      case 'trace':
        return { name, binary, datatype: 'BYTES', shape: [n], data: answers.map((a) => JSON.stringify(a.result.trace ?? [])) };
    }
  });
}

/** An output's elements as the binary tensor extension lays them out. */
export function tensorBytes(t: OutputTensor): Buffer {
  switch (t.datatype) {
    case 'BYTES':
      return joinBytesElements(t.data.map((s) => Buffer.from(s, 'utf8')));
    case 'FP32':
      return float32Bytes(t.data);
    case 'INT32':
      return int32Bytes(t.data);
    case 'BOOL':
      return boolBytes(t.data);
  }
}

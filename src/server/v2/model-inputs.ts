/**
 * The three forms a v2 input may take, over REST and gRPC alike: `image`
 * (BYTES, one encoded image per element), `input` (FP32 [N, C, H, W], the
 * model's normalised input) and `pixels` (UINT8 [N, C, H, W], raw pixels we
 * normalise). A request carries exactly one of them; its name, datatype and
 * shape are checked before its data is read.
 */
import { EeroError } from '../../errors';
import type { ClassifyInput } from '../../pipeline';
import type { ModelDescription } from '../server-types';
import { elementCount, readFloat32, splitBytesElements } from './datatypes';

export const INPUT_DATATYPES = { image: 'BYTES', input: 'FP32', pixels: 'UINT8' } as const;
export type InputName = keyof typeof INPUT_DATATYPES;
export type InputDatatype = (typeof INPUT_DATATYPES)[InputName];

/** An input's declared form, checked; `count` elements follow, holding `images` images. */
export interface InputHead {
  name: InputName;
  datatype: InputDatatype;
  shape: number[];
  count: number;
  images: number;
}

/** An input's elements, decoded by the transport for the head's datatype. */
export type InputData = Uint8Array[] | Float32Array | Uint8Array;

export function modelShape(model: ModelDescription): [number, number, number] {
  return [model.input.channels, model.input.height, model.input.width];
}

/** The metadata's list of inputs: each accepted form (a request sends one of them). */
export function inputMetadata(model: ModelDescription): Array<{ name: string; datatype: string; shape: number[] }> {
  return [
    { name: 'image', datatype: 'BYTES', shape: [-1] },
    { name: 'input', datatype: 'FP32', shape: [-1, ...modelShape(model)] },
    { name: 'pixels', datatype: 'UINT8', shape: [-1, ...modelShape(model)] },
  ];
}

/** A client's JSON value named in a message: short, and never throwing (String() of {"toString": 1} throws, of deep arrays overflows). */
export function shown(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}...` : v);
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return String(v);
  return Array.isArray(v) ? 'an array' : v === undefined ? 'nothing' : 'an object';
}

function forms(model: ModelDescription): string {
  const s = modelShape(model).join(', ');
  return `image (BYTES, encoded images), input (FP32 [N, ${s}], normalised) or pixels (UINT8 [N, ${s}], raw)`;
}

/**
 * The most values a request may hold (JSON values, protobuf fields and packed elements): its images'
 * elements (one per image as BYTES), with room for what nests them, the parameters and the outputs.
 */
export function requestValueLimit(model: ModelDescription, maxImages: number): number {
  const [c, h, w] = modelShape(model);
  return 2 * maxImages * c * h * w + 10_000;
}

/** More images in one request than limits.filesPerRequest allows. */
function tooManyImages(limit: number): EeroError {
  return new EeroError('TOO_MANY_FILES', `more than ${limit} images in one inference`, { details: { limit } });
}

/** The data do not hold what the shape says. */
export function countMismatch(head: InputHead, elements: number): EeroError {
  return new EeroError(
    'BAD_REQUEST',
    `input "${head.name}": shape ${JSON.stringify(head.shape)} holds ${head.count} elements, the data hold ${elements}`,
  );
}

/**
 * Name, datatype and shape of the one input; `most` bounds the elements (the request's size in bytes).
 * More than `maxImages` images are refused from the shape, before any data is read.
 */
export function checkInputHead(
  name: unknown,
  datatype: unknown,
  shape: unknown,
  model: ModelDescription,
  most: number,
  maxImages: number,
): InputHead {
  if (typeof name !== 'string' || !Object.hasOwn(INPUT_DATATYPES, name)) {
    throw new EeroError('BAD_PARAMETER', `unknown input ${shown(name)}; send one of ${forms(model)}`);
  }
  const input = name as InputName;
  const want = INPUT_DATATYPES[input];
  if (datatype !== want) throw new EeroError('BAD_PARAMETER', `input ${shown(name)} must have datatype ${want}, got ${shown(datatype)}`);
  if (!Array.isArray(shape)) throw new EeroError('BAD_REQUEST', `input "${input}": "shape" must be an array of integers`);
  const count = elementCount(shape, `input "${input}"`, most);
  const dims = shape as number[];
  if (input === 'image') {
    if (count > maxImages) throw tooManyImages(maxImages);
    return { name: input, datatype: want, shape: dims, count, images: count };
  }
  const [c, h, w] = modelShape(model);
  if (dims.length !== 4 || dims[1] !== c || dims[2] !== h || dims[3] !== w) {
    throw new EeroError(
      'BAD_REQUEST',
      `input "${input}" must have shape [N, ${c}, ${h}, ${w}] (this model's input), got ${JSON.stringify(dims)}`,
    );
  }
  if ((dims[0] as number) > maxImages) throw tooManyImages(maxImages);
  return { name: input, datatype: want, shape: dims, count, images: dims[0] as number };
}

/** An input's data as bytes (REST binary data, gRPC raw contents): BYTES elements length-prefixed, FP32 little-endian, UINT8 as is. */
export function rawInputData(head: InputHead, data: Uint8Array): InputData {
  const what = `input "${head.name}"`;
  if (head.datatype === 'BYTES') return splitBytesElements(data, what, head.count);
  if (head.datatype === 'FP32') return readFloat32(data, what);
  return data;
}

/** The classifier's inputs: one per image; BAD_REQUEST when the data do not hold what the shape says. */
export function classifyInputs(head: InputHead, data: InputData): ClassifyInput[] {
  if (data.length !== head.count) throw countMismatch(head, data.length);
  if (head.count === 0) throw new EeroError('EMPTY_INPUT', `input "${head.name}" has no data`);
  if (Array.isArray(data)) return data;
  const per = head.count / head.images;
  return Array.from({ length: head.images }, (_, i) => ({ pixels: data.subarray(i * per, (i + 1) * per) }));
}

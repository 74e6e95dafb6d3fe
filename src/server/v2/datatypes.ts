/**
 * Tensor data as the Open Inference Protocol carries it in bytes (Triton's
 * binary tensor extension, gRPC raw contents): little-endian, row-major, no
 * padding; a BYTES element is a 4-byte little-endian length, then its bytes.
 */
import { EeroError } from '../../errors';

function bad(message: string): EeroError {
  return new EeroError('BAD_REQUEST', message);
}

/** Elements a shape holds; BAD_REQUEST unless every dimension is an integer >= 0 and the product is bounded. */
export function elementCount(shape: readonly unknown[], what: string, most: number): number {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw bad(`${what}: shape dimensions must be integers >= 0, got ${JSON.stringify(shape)}`);
    }
    n *= d;
    // Checked as it grows, so that a lie like [1e9, 1e9, 1e9] never becomes an allocation.
    if (n > most) throw bad(`${what}: shape ${JSON.stringify(shape)} holds more elements than the request carries`);
  }
  return n;
}

/**
 * A BYTES tensor's elements, each a view into `data` (no copy); BAD_REQUEST if the framing does not fill `data` exactly,
 * or holds more than `most` elements (checked as it goes: 20 MB of empty elements would be 5 million views, 4 s of the loop).
 */
export function splitBytesElements(data: Uint8Array, what: string, most: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 0;
  while (at < data.length) {
    if (out.length === most) throw bad(`${what}: the data hold more than the ${most} BYTES elements the shape says`);
    if (at + 4 > data.length) throw bad(`${what}: a BYTES element's 4-byte length is cut short at byte ${at}`);
    const length = view.getUint32(at, true);
    at += 4;
    if (at + length > data.length) {
      throw bad(`${what}: BYTES element ${out.length} says ${length} bytes, only ${data.length - at} remain`);
    }
    out.push(data.subarray(at, at + length));
    at += length;
  }
  return out;
}

export function joinBytesElements(elements: readonly Uint8Array[]): Buffer {
  const size = elements.reduce((s, e) => s + 4 + e.length, 0);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const e of elements) {
    out.writeUInt32LE(e.length, at);
    out.set(e, at + 4);
    at += 4 + e.length;
  }
  return out;
}

/** Little-endian float32 values, copied into an aligned array. */
export function readFloat32(data: Uint8Array, what: string): Float32Array {
  if (data.length % 4 !== 0) throw bad(`${what}: ${data.length} bytes is not a whole number of FP32 values`);
  const out = new Float32Array(data.length / 4);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

export function float32Bytes(values: ArrayLike<number>): Buffer {
  const out = Buffer.allocUnsafe(values.length * 4);
  for (let i = 0; i < values.length; i++) out.writeFloatLE(values[i] as number, i * 4);
  return out;
}

export function int32Bytes(values: ArrayLike<number>): Buffer {
  const out = Buffer.allocUnsafe(values.length * 4);
  for (let i = 0; i < values.length; i++) out.writeInt32LE(values[i] as number, i * 4);
  return out;
}

export function boolBytes(values: readonly boolean[]): Buffer {
  return Buffer.from(values.map((v) => (v ? 1 : 0)));
}

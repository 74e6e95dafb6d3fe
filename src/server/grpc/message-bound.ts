/**
 * How many values a ModelInferRequest would decode into, bounded, read from
 * its bytes before protobufjs decodes it. Decoding runs on the event loop and
 * makes a JS number of every element: 16 MB of fp32_contents held the loop for
 * about 3 s, and with four such calls in flight another client's p50 was
 * 1.5 s (worst 3.5 s). An inference request never needs more values than its images'
 * elements, so a message with more is refused without being decoded.
 * Field numbers: proto/inference.proto (KServe's and Triton's).
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import { EeroError } from '../../errors';

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

/** The fields of one message in buf[start, end): `visit` gets each one's number, wire type and payload range; false stops the walk. */
function eachField(
  buf: Uint8Array,
  start: number,
  end: number,
  visit: (field: number, wire: number, from: number, to: number) => boolean,
): void {
  let at = start;
  const varint = (): number => {
    let value = 0;
    for (let scale = 1; at < end && scale < 2 ** 56; scale *= 128) {
      const b = buf[at++] as number;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
    }
    return -1;
  };
  while (at < end) {
    const key = varint();
    if (key < 0) return;
    const field = Math.floor(key / 8);
    const wire = key % 8;
    let from = at;
    if (wire === VARINT) {
      if (varint() < 0) return;
    } else if (wire === I64) at += 8;
    else if (wire === I32) at += 4;
    else if (wire === LEN) {
      const length = varint();
      if (length < 0) return;
      from = at;
      at += length;
    } else return; // groups, or garbage: protobufjs names the fault
    if (at > end || !visit(field, wire, from, at)) return;
  }
}

/** Packed repeated numbers: bytes per element at least (varints 1). */
const PACKED_WIDTH: Record<number, number> = { 1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 4, 7: 8 };

/** Whether a ModelInferRequest's bytes would decode into more than `limit` values (every field occurrence, every packed element). */
export function inferRequestValuesOver(buf: Uint8Array, limit: number): boolean {
  let left = limit;
  const take = (n: number): boolean => (left -= n) >= 0;
  const contents = (field: number, wire: number, from: number, to: number): boolean => {
    const width = PACKED_WIDTH[field];
    return take(wire === LEN && width !== undefined ? Math.ceil((to - from) / width) : 1);
  };
  const input = (field: number, wire: number, from: number, to: number): boolean => {
    if (field === 5 && wire === LEN) {
      eachField(buf, from, to, contents);
      return left >= 0;
    }
    return take(field === 3 && wire === LEN ? to - from : 1); // shape, packed
  };
  eachField(buf, 0, buf.length, (field, wire, from, to) => {
    if (field === 5 && wire === LEN) {
      eachField(buf, from, to, input);
      return left >= 0;
    }
    return take(1);
  });
  return left < 0;
}

const SCREENED = new Set(['ModelInfer', 'ModelStreamInfer']);

/** What the wrapped deserializer hands the handler instead of a request it would not decode. */
export class RefusedMessage {
  constructor(readonly error: EeroError) {}
}

/**
 * The inference service with ModelInfer and ModelStreamInfer requests
 * screened by inferRequestValuesOver before they are decoded; a refused one
 * reaches the handler as a RefusedMessage (answered BODY_TOO_LARGE, as REST).
 */
export function boundedInference(definition: ServiceDefinition, limit: number): ServiceDefinition {
  const screened = (method: ServiceDefinition[string]): ServiceDefinition[string] => ({
    ...method,
    requestDeserialize: (bytes: Buffer): unknown =>
      inferRequestValuesOver(bytes, limit)
        ? new RefusedMessage(
            new EeroError('BODY_TOO_LARGE', `the request holds more than ${limit} values, more than its images can need`, {
              details: { limit },
            }),
          )
        : method.requestDeserialize(bytes),
  });
  return Object.fromEntries(Object.entries(definition).map(([name, method]) => [name, SCREENED.has(name) ? screened(method) : method]));
}

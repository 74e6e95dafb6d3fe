/**
 * Requests that are cheap to send and were costly to read on the service's
 * event loop: each a valid-looking body of about 12 to 20 MB whose header or
 * framing holds millions of tiny parts. Built for benchmarks/decode-stall.ts.
 */
import sharp from 'sharp';
import { loadServices } from '../../src/server/grpc/proto-files';
import { chunkFloodPng } from './png';

const MODEL = 'resnet18-fmnist';

/** `times` copies of `unit`, one after another. */
const repeated = (unit: Buffer, times: number): Buffer => Buffer.alloc(unit.length * times, unit);

/** A v2 JSON inference of 2,000 images as 2,048,000 FP32 numbers (18 MB), far over 64 images. */
export function jsonNumbers(): Buffer {
  const numbers = repeated(Buffer.from('0.123456,'), 2000 * 1024);
  return Buffer.concat([
    Buffer.from('{"inputs":[{"name":"input","datatype":"FP32","shape":[2000,1,32,32],"data":['),
    numbers.subarray(0, numbers.length - 1),
    Buffer.from(']}]}'),
  ]);
}

/** A v2 JSON inference of one image whose base64 has a space every two characters (18 MB). */
export function base64Spaces(): Buffer {
  return Buffer.concat([
    Buffer.from('{"inputs":[{"name":"image","datatype":"BYTES","shape":[1],"data":["'),
    repeated(Buffer.from('QU '), 6_000_000),
    Buffer.from('"]}]}'),
  ]);
}

/** A v2 binary inference of one image whose BYTES framing holds 5,000,000 empty elements (20 MB). */
export function bytesFraming(): { json: Buffer; body: Buffer } {
  const binary = Buffer.alloc(20_000_000);
  const json = Buffer.from(
    JSON.stringify({ inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: binary.length } }] }),
  );
  return { json, body: Buffer.concat([json, binary]) };
}

/** A ModelInfer message of 4,000,000 fp32_contents (16 MB), serialized. */
export function grpcFloats(): Buffer {
  const n = 4_000_000;
  return loadServices().inference.ModelInfer?.requestSerialize({
    model_name: MODEL,
    inputs: [
      { name: 'input', datatype: 'FP32', shape: [n / 1024, 1, 32, 32], contents: { fp32_contents: new Array<number>(n).fill(0.5) } },
    ],
  }) as Buffer;
}

/** POST /v1/classify with chunked transfer encoding, one byte a chunk (6 bytes each on the wire), then the end. */
export function oneByteChunks(count: number): Buffer {
  return Buffer.concat([
    Buffer.from(
      'POST /v1/classify HTTP/1.1\r\nHost: eero\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
    ),
    repeated(Buffer.from('1\r\nX\r\n'), count),
    Buffer.from('0\r\n\r\n'),
  ]);
}

/** A 28 x 28 PNG followed by 1,100,000 empty IDAT chunks (13 MB). */
export const pngChunks = (): Buffer => chunkFloodPng(1_100_000);

const plainImage = () => sharp({ create: { width: 28, height: 28, channels: 3, background: '#808080' } });

/** A 28 x 28 JPEG with 3,000,000 empty APP2 segments before its frame (12 MB). */
export async function jpegMarkers(): Promise<Buffer> {
  const jpeg = await plainImage().jpeg().toBuffer();
  return Buffer.concat([jpeg.subarray(0, 2), repeated(Buffer.from([0xff, 0xe2, 0x00, 0x02]), 3_000_000), jpeg.subarray(2)]);
}

/** A 28 x 28 AVIF with 2,400,000 empty `free` boxes after its `ftyp` (19 MB). */
export async function avifBoxes(): Promise<Buffer> {
  const avif = await plainImage().avif().toBuffer();
  const ftyp = avif.readUInt32BE(0);
  return Buffer.concat([
    avif.subarray(0, ftyp),
    repeated(Buffer.from([0, 0, 0, 8, 0x66, 0x72, 0x65, 0x65]), 2_400_000),
    avif.subarray(ftyp),
  ]);
}

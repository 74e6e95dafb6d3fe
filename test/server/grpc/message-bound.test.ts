import { boundedInference, inferRequestValuesOver, RefusedMessage } from '../../../src/server/grpc/message-bound';
import { loadServices } from '../../../src/server/grpc/proto-files';

const definition = loadServices().inference;
const encode = (request: Record<string, unknown>): Buffer => definition.ModelInfer?.requestSerialize(request) as Buffer;
const tensor = (contents: Record<string, unknown>, shape = [1, 1, 32, 32]): Buffer =>
  encode({ model_name: 'm', inputs: [{ name: 'input', datatype: 'FP32', shape, contents }] });

describe('inferRequestValuesOver: the values a ModelInferRequest would decode into, bounded from its bytes', () => {
  test('packed fp32 and fp64 count one per element; the fields around them count one each', () => {
    expect(inferRequestValuesOver(tensor({ fp32_contents: new Array<number>(1000).fill(1) }), 1010)).toBe(false);
    expect(inferRequestValuesOver(tensor({ fp32_contents: new Array<number>(1000).fill(1) }), 1000)).toBe(true);
    expect(inferRequestValuesOver(tensor({ fp64_contents: new Array<number>(1000).fill(1) }), 1000)).toBe(true);
  });

  test('packed varints count one per byte, at least one per element: small pixels exactly, large values more', () => {
    const small = tensor({ uint_contents: new Array<number>(1000).fill(7) });
    expect(inferRequestValuesOver(small, 1010)).toBe(false);
    expect(inferRequestValuesOver(small, 999)).toBe(true);
    expect(inferRequestValuesOver(tensor({ uint_contents: new Array<number>(1000).fill(300) }), 1010)).toBe(true);
  });

  test('bytes, raw contents and strings count once whatever their length', () => {
    const image = Buffer.alloc(1 << 20, 7);
    expect(inferRequestValuesOver(tensor({ bytes_contents: [image, image, image] }), 20)).toBe(false);
    const raw = encode({
      model_name: 'x'.repeat(10_000),
      inputs: [{ name: 'image', datatype: 'BYTES', shape: [1] }],
      raw_input_contents: [image],
    });
    expect(inferRequestValuesOver(raw, 20)).toBe(false);
  });

  test('a long shape counts too, and so do many parameters', () => {
    expect(inferRequestValuesOver(tensor({}, new Array<number>(5000).fill(1)), 1000)).toBe(true);
    const parameters = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`p${i}`, { bool_param: true }]));
    expect(inferRequestValuesOver(encode({ model_name: 'm', parameters }), 1000)).toBe(true);
  });

  test('broken framing is left to the decoder, which names the fault', () => {
    const whole = tensor({ fp32_contents: new Array<number>(1000).fill(1) });
    expect(inferRequestValuesOver(whole.subarray(0, 200), 10)).toBe(false);
    expect(inferRequestValuesOver(Buffer.from([0xff, 0xff, 0xff]), 0)).toBe(false);
  });
});

describe('boundedInference: the service definition with inference requests screened before decoding', () => {
  const bounded = boundedInference(definition, 100);
  const flood = tensor({ fp32_contents: new Array<number>(1000).fill(1) });

  test('ModelInfer and ModelStreamInfer hand a flood over as a RefusedMessage (BODY_TOO_LARGE), anything else decoded', () => {
    for (const method of ['ModelInfer', 'ModelStreamInfer']) {
      const refused = bounded[method]?.requestDeserialize(flood);
      expect(refused).toBeInstanceOf(RefusedMessage);
      expect((refused as RefusedMessage).error.code).toBe('BODY_TOO_LARGE');
      expect(bounded[method]?.requestDeserialize(tensor({ fp32_contents: [1, 2] }))).toMatchObject({ model_name: 'm' });
    }
  });

  test('the other methods are left as they were', () => {
    expect(bounded.ModelMetadata).toBe(definition.ModelMetadata);
    expect(Object.keys(bounded)).toEqual(Object.keys(definition));
  });
});

/** A bundle's `input` block (models/FORMAT.md): how image bytes become the model's tensor. The one home of its rules. */
import type { z } from 'zod';
import { arr, num, obj, oneOf, parseWithSchema, reporter, type Schema } from './schema';

const byte = num({ integer: true, min: 0, max: 255 });
const size = num({ integer: true, min: 1 });

export const inputSpecSchema = obj({
  channels: oneOf([1, 3] as const),
  colorSpace: oneOf(['gray', 'srgb'] as const),
  height: size,
  width: size,
  resize: obj({ width: size, height: size, fit: oneOf(['fill', 'contain', 'cover'] as const) }),
  /** top, right, bottom, left */
  pad: arr(num({ integer: true, min: 0 }), { length: 4 }) as unknown as Schema<[number, number, number, number]>,
  /** 0..255 RGB: alpha is flattened onto it; padding and `contain` bars use it. */
  background: arr(byte, { length: 3 }) as unknown as Schema<[number, number, number]>,
  scale: num({ above: 0 }),
  mean: arr(num(), { minLength: 1 }),
  std: arr(num({ above: 0 }), { minLength: 1 }),
}).superRefine((input, ctx) => {
  const report = reporter(ctx);
  const wantChannels = input.colorSpace === 'gray' ? 1 : 3;
  if (input.channels !== wantChannels)
    report(['channels'], `expected ${wantChannels} for colorSpace ${input.colorSpace}, got ${input.channels}`);
  for (const key of ['mean', 'std'] as const) {
    if (input[key].length !== input.channels) {
      report([key], `expected ${input.channels} values (one per channel), got ${input[key].length}`);
    }
  }
  const [top, right, bottom, left] = input.pad;
  if (input.resize.height + top + bottom !== input.height) {
    report(['resize', 'height'], `resize.height + pad top + bottom must equal height ${input.height}`);
  }
  if (input.resize.width + left + right !== input.width) {
    report(['resize', 'width'], `resize.width + pad left + right must equal width ${input.width}`);
  }
});

export type InputSpec = z.infer<typeof inputSpecSchema>;

/** Check an input spec that did not come from a manifest file (MODEL_INVALID naming the field). */
export function parseInputSpec(value: unknown, source = 'input spec'): InputSpec {
  return parseWithSchema(inputSpecSchema, value, source, 'MODEL_INVALID');
}

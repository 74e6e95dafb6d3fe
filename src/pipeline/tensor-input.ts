/**
 * Inputs a client has already decoded: the model's own input tensor (FP32,
 * normalised, CHW) or raw pixels at the model's size (UINT8, CHW), which we
 * normalise with the bundle's tables. Either goes to the batcher like a
 * decoded image; only the decode is skipped.
 */
import type { InputSpec } from '../config';
import { EeroError } from '../errors';
import { compileInputSpec } from '../preprocess';

/** One image as a tensor of the model's input shape [C, H, W], row-major. */
export interface PixelInput {
  /** FP32: the normalised model input; UINT8: raw pixel values 0..255, normalised here. */
  readonly pixels: Float32Array | Uint8Array;
}

export type ClassifyInput = Uint8Array | EeroError | PixelInput;

export function isPixelInput(input: ClassifyInput): input is PixelInput {
  return !(input instanceof Uint8Array) && !(input instanceof EeroError);
}

export type TensorWriter = (input: PixelInput, target: Float32Array, offset: number) => void;

function bad(message: string): EeroError {
  return new EeroError('BAD_REQUEST', message);
}

/** Copies (FP32) or normalises (UINT8) one image into `target[offset ..]`; BAD_REQUEST for a wrong size or a non-finite value. */
export function tensorWriter(spec: InputSpec): TensorWriter {
  const plan = compileInputSpec(spec);
  const area = plan.height * plan.width;
  const shape = `[${plan.channels}, ${plan.height}, ${plan.width}]`;
  return (input, target, offset) => {
    const { pixels } = input;
    if (pixels.length !== plan.length) {
      throw bad(`an input tensor must hold ${plan.length} values (${shape}), got ${pixels.length}`);
    }
    if (pixels instanceof Float32Array) {
      // A NaN or infinity would reach the exits' scores; no image normalises to one.
      for (let i = 0; i < pixels.length; i++) {
        if (!Number.isFinite(pixels[i])) throw bad(`the FP32 input has a non-finite value (${pixels[i]}) at element ${i}`);
      }
      target.set(pixels, offset);
      return;
    }
    for (let c = 0; c < plan.channels; c++) {
      const lut = plan.lut[c] as Float32Array;
      const plane = c * area;
      for (let i = 0; i < area; i++) target[offset + plane + i] = lut[pixels[plane + i] as number] as number;
    }
  };
}

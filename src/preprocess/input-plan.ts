import { parseInputSpec, type InputSpec } from '../config';

/**
 * An `InputSpec` checked once and turned into what the per-image loop needs:
 * the tensor's size and one 256-entry lookup table per channel, so that
 * normalising a pixel is one table read (no division per pixel).
 */
export interface InputPlan {
  readonly spec: InputSpec;
  readonly channels: 1 | 3;
  readonly height: number;
  readonly width: number;
  /** C*H*W: the floats one image occupies in the tensor. */
  readonly length: number;
  /** `lut[c][v]` = (v / scale - mean[c]) / std[c], each step rounded to float32 as torch does. */
  readonly lut: readonly Float32Array[];
  /** The background as one gray value (ITU-R 601 luma), used when the pipeline runs in gray. */
  readonly backgroundGray: number;
}

/** ITU-R 601 luma in PIL's integer form (`Image.convert('L')`), which the toolkit trains with. */
export function luma601(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
}

function channelLut(scale: number, mean: number, std: number): Float32Array {
  const f = Math.fround;
  const [s, m, d] = [f(scale), f(mean), f(std)];
  const lut = new Float32Array(256);
  for (let v = 0; v < 256; v++) lut[v] = f(f(f(v / s) - m) / d);
  return lut;
}

/** Checks `spec` (the manifest's rules, config/input-spec.ts) and precomputes its tables; MODEL_INVALID names what is wrong. */
export function compileInputSpec(given: InputSpec): InputPlan {
  const spec = parseInputSpec(given);
  const lut = spec.mean.map((m, c) => channelLut(spec.scale, m, spec.std[c] ?? 1));
  const [r, g, b] = spec.background;
  return {
    spec,
    channels: spec.channels,
    height: spec.height,
    width: spec.width,
    length: spec.channels * spec.height * spec.width,
    lut,
    backgroundGray: luma601(r, g, b),
  };
}

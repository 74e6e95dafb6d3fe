import type { InputSpec } from '../config/manifest-types';
import { EeroError } from '../errors';

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

function invalid(message: string): EeroError {
  return new EeroError('MODEL_INVALID', message);
}

function isPositiveInt(n: number): boolean {
  return Number.isInteger(n) && n > 0;
}

function checkSpec(spec: InputSpec): void {
  const { channels, resize, pad, background, mean, std } = spec;
  if (channels !== 1 && channels !== 3) throw invalid(`Input channels must be 1 or 3, not ${String(channels)}.`);
  if ((channels === 1) !== (spec.colorSpace === 'gray')) {
    throw invalid(`Input colorSpace ${spec.colorSpace} does not match ${channels} channel(s).`);
  }
  if (![spec.width, spec.height, resize.width, resize.height].every(isPositiveInt)) {
    throw invalid('Input width, height and resize size must be positive integers.');
  }
  if (pad.length !== 4 || !pad.every((p) => Number.isInteger(p) && p >= 0)) {
    throw invalid('Input pad must be four non-negative integers (top, right, bottom, left).');
  }
  const [top, right, bottom, left] = pad;
  if (resize.height + top + bottom !== spec.height || resize.width + left + right !== spec.width) {
    throw invalid(
      `Input resize ${resize.width}x${resize.height} plus pad [${pad.join(', ')}] ` +
        `does not make the tensor size ${spec.width}x${spec.height}.`,
    );
  }
  if (background.length !== 3 || !background.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) {
    throw invalid('Input background must be three integers in 0..255.');
  }
  if (!(spec.scale > 0)) throw invalid('Input scale must be positive.');
  if (mean.length !== channels || std.length !== channels) {
    throw invalid(`Input mean and std must have ${channels} value(s), one per channel.`);
  }
  if (!std.every((s) => s > 0) || !mean.every(Number.isFinite)) {
    throw invalid('Input std must be positive and mean finite.');
  }
}

function channelLut(scale: number, mean: number, std: number): Float32Array {
  const f = Math.fround;
  const [s, m, d] = [f(scale), f(mean), f(std)];
  const lut = new Float32Array(256);
  for (let v = 0; v < 256; v++) lut[v] = f(f(f(v / s) - m) / d);
  return lut;
}

/** Checks `spec` and precomputes its tables; throws MODEL_INVALID naming what is wrong. */
export function compileInputSpec(spec: InputSpec): InputPlan {
  checkSpec(spec);
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

import type { InputPlan } from './input-plan';
import { luma601 } from './input-plan';

/**
 * Writes 8-bit interleaved pixels (HWC, 1 or 3 channels as decoded) into
 * `target[offset ..]` as normalised CHW floats with the plan's channel count:
 * gray -> gray copies, gray -> sRGB repeats the gray value, sRGB -> gray takes
 * ITU-R 601 luma (as PIL's `convert('L')`), sRGB -> sRGB de-interleaves.
 */
export function writeNormalised(pixels: Uint8Array, pixelChannels: 1 | 3, plan: InputPlan, target: Float32Array, offset: number): void {
  const area = plan.height * plan.width;
  if (pixels.length !== area * pixelChannels) {
    throw new RangeError(`Expected ${area * pixelChannels} pixel bytes, got ${pixels.length}.`);
  }
  if (!Number.isInteger(offset) || offset < 0 || offset + plan.length > target.length) {
    throw new RangeError(`Cannot write ${plan.length} floats at offset ${offset} into a tensor of ${target.length}.`);
  }
  if (plan.channels === 1) writeGray(pixels, pixelChannels, plan.lut[0] as Float32Array, target, offset, area);
  else writeColour(pixels, pixelChannels, plan.lut, target, offset, area);
}

function writeGray(pixels: Uint8Array, pixelChannels: 1 | 3, lut: Float32Array, target: Float32Array, offset: number, area: number): void {
  if (pixelChannels === 1) {
    for (let i = 0; i < area; i++) target[offset + i] = lut[pixels[i] as number] as number;
    return;
  }
  for (let i = 0, p = 0; i < area; i++, p += 3) {
    const gray = luma601(pixels[p] as number, pixels[p + 1] as number, pixels[p + 2] as number);
    target[offset + i] = lut[gray] as number;
  }
}

function writeColour(
  pixels: Uint8Array,
  pixelChannels: 1 | 3,
  luts: readonly Float32Array[],
  target: Float32Array,
  offset: number,
  area: number,
): void {
  for (let c = 0; c < 3; c++) {
    const lut = luts[c] as Float32Array;
    const plane = offset + c * area;
    const from = pixelChannels === 3 ? c : 0;
    for (let i = 0, p = from; i < area; i++, p += pixelChannels) target[plane + i] = lut[pixels[p] as number] as number;
  }
}

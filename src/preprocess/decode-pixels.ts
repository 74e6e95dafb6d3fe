import sharp from 'sharp';
import type { OutputInfo } from 'sharp';
import { EeroError } from '../errors';
import type { InputPlan } from './input-plan';
import type { FailOn, ImageHeader } from './read-header';
import { fromSharpError } from './sharp-errors';

export interface DecodeOptions {
  limitInputPixels: number;
  /** Default 'error': refuses truncated and undecodable data, tolerates libjpeg/libpng warnings. */
  failOn?: FailOn;
  /** Stop a decode that runs longer than this (sharp's `timeout`); off when absent. */
  timeoutSeconds?: number;
}

/** The decoded content area plus padding, as 8-bit HWC pixels, before normalisation. */
export interface DecodedPixels {
  pixels: Buffer;
  /** 1 when the pipeline ran in gray (gray source), 3 when in sRGB. */
  channels: 1 | 3;
}

/**
 * One sharp pipeline: first frame, EXIF orientation, alpha flattened on the
 * background, resize per `fit` (skipped when the image already has the size),
 * padding, then raw 8-bit pixels. A gray source stays one channel (its pixels
 * are not touched when no resize is needed); anything else becomes sRGB, and
 * `writeNormalised` maps the channels to what the model takes.
 */
export async function decodePixels(
  bytes: Uint8Array,
  header: ImageHeader,
  plan: InputPlan,
  options: DecodeOptions,
): Promise<DecodedPixels> {
  const { spec } = plan;
  const channels: 1 | 3 = header.isGray ? 1 : 3;
  // libvips turns an RGB background into gray its own way; give gray pipelines the 601 luma.
  const [r, g, b] = header.isGray ? [plan.backgroundGray, plan.backgroundGray, plan.backgroundGray] : spec.background;
  const background = { r, g, b, alpha: 1 };

  let image = sharp(bytes, {
    failOn: options.failOn ?? 'error',
    limitInputPixels: options.limitInputPixels,
    pages: 1,
    page: 0,
    autoOrient: true,
  });
  if (options.timeoutSeconds !== undefined) image = image.timeout({ seconds: options.timeoutSeconds });
  if (header.hasAlpha) image = image.flatten({ background });

  const { resize, pad } = spec;
  if (header.width !== resize.width || header.height !== resize.height) {
    image = image.resize(resize.width, resize.height, {
      fit: resize.fit,
      position: 'centre',
      background,
      // PIL's BILINEAR (what the toolkit trains with) is an antialiased triangle filter, as is libvips' linear reduce.
      kernel: 'linear',
      fastShrinkOnLoad: false,
    });
  }
  const [top, right, bottom, left] = pad;
  if (top + right + bottom + left > 0) image = image.extend({ top, right, bottom, left, background });
  image = image.removeAlpha().toColourspace(header.isGray ? 'b-w' : 'srgb');

  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await image.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw fromSharpError(e, header.format, options.limitInputPixels);
  }
  const { data, info } = out;
  if (
    info.width !== plan.width ||
    info.height !== plan.height ||
    info.channels !== channels ||
    data.length !== plan.width * plan.height * channels
  ) {
    throw new EeroError(
      'INTERNAL',
      `Preprocessing produced ${info.width}x${info.height}x${info.channels} (${data.length} bytes), ` +
        `expected ${plan.width}x${plan.height}x${channels}.`,
    );
  }
  return { pixels: data, channels };
}

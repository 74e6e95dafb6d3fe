import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import type { OutputInfo, Sharp } from 'sharp';
import { EeroError } from '../errors';
import { cmykToRgb } from './cmyk';
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

/** Where the main pipeline starts: the encoded bytes, or raw pixels an earlier pass made from them (oriented already). */
interface Source {
  image: Sharp;
  hasAlpha: boolean;
}

/**
 * libvips' reduceh/reducev refuse a shrink factor above 10^6 ("parameter
 * hshrink not set"): a valid 40000000x1 PNG could not be resized to 28x28.
 * Past MAX_SHRINK an image is first shrunk, keeping its aspect ratio, into a
 * box PRE_SHRINK_BOX times the target, so each resize stays far below that.
 * Only sides over 10^4 times the target's are affected (never a photo).
 */
const MAX_SHRINK = 10_000;
const PRE_SHRINK_BOX = 100;

/** The largest factor by which the main resize would shrink one side (as sharp sizes each fit). */
function largestShrink(width: number, height: number, resize: InputPlan['spec']['resize']): number {
  if (resize.fit === 'fill') return Math.max(width / resize.width, height / resize.height);
  const ratio =
    resize.fit === 'contain'
      ? Math.max(width / resize.width, height / resize.height)
      : Math.min(width / resize.width, height / resize.height);
  return Math.max(width / Math.max(1, Math.round(width / ratio)), height / Math.max(1, Math.round(height / ratio)));
}

function openEncoded(bytes: Uint8Array, options: DecodeOptions): Sharp {
  const image = sharp(bytes, {
    failOn: options.failOn ?? 'error',
    limitInputPixels: options.limitInputPixels,
    pages: 1,
    page: 0,
    autoOrient: true,
  });
  return options.timeoutSeconds === undefined ? image : image.timeout({ seconds: options.timeoutSeconds });
}

async function toRaw(image: Sharp, header: ImageHeader, options: DecodeOptions): Promise<{ data: Buffer; info: OutputInfo }> {
  const started = performance.now();
  try {
    return await image.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (e) {
    const limitMs = options.timeoutSeconds === undefined ? Infinity : options.timeoutSeconds * 1000;
    throw fromSharpError(e, header.format, options.limitInputPixels, performance.now() - started >= limitMs);
  }
}

function openRaw(data: Buffer, width: number, height: number, channels: number, options: DecodeOptions): Source {
  if (channels < 1 || channels > 4) throw new EeroError('INTERNAL', `A first decoding pass produced ${channels} channels.`);
  const image = sharp(data, { raw: { width, height, channels: channels as 1 | 2 | 3 | 4 }, limitInputPixels: options.limitInputPixels });
  return {
    image: options.timeoutSeconds === undefined ? image : image.timeout({ seconds: options.timeoutSeconds }),
    hasAlpha: channels === 2 || channels === 4,
  };
}

/** CMYK without a profile: its raw ink channels (no colour conversion in libvips), converted as viewers do (cmyk.ts). */
async function cmykSource(bytes: Uint8Array, header: ImageHeader, options: DecodeOptions): Promise<Source> {
  const { data, info } = await toRaw(openEncoded(bytes, options).pipelineColourspace('cmyk').toColourspace('cmyk'), header, options);
  const bands = Number(info.channels);
  if (bands !== 4 && bands !== 5) throw new EeroError('INTERNAL', `A CMYK image decoded to ${bands} channels.`);
  const rgb = cmykToRgb(data, bands);
  return openRaw(rgb.pixels, info.width, info.height, rgb.channels, options);
}

/** The source shrunk, aspect kept, into PRE_SHRINK_BOX times the target (alpha kept; gray stays gray). */
async function preShrunk(source: Source, header: ImageHeader, plan: InputPlan, options: DecodeOptions): Promise<Source> {
  const { resize } = plan.spec;
  const image = source.image
    .resize(resize.width * PRE_SHRINK_BOX, resize.height * PRE_SHRINK_BOX, { fit: 'inside', kernel: 'linear', fastShrinkOnLoad: false })
    .toColourspace(header.isGray ? 'b-w' : 'srgb');
  const { data, info } = await toRaw(image, header, options);
  return openRaw(data, info.width, info.height, info.channels, options);
}

/**
 * One sharp pipeline: first frame, EXIF orientation, alpha flattened on the
 * background, resize per `fit` (skipped when the image already has the size),
 * padding, then raw 8-bit pixels. A gray source stays one channel (its pixels
 * are not touched when no resize is needed); anything else becomes sRGB, and
 * `writeNormalised` maps the channels to what the model takes. CMYK without
 * a profile and extreme aspect ratios take a first pass to raw pixels.
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

  let source: Source = header.cmykWithoutProfile
    ? await cmykSource(bytes, header, options)
    : { image: openEncoded(bytes, options), hasAlpha: header.hasAlpha };
  const { resize, pad } = spec;
  if (largestShrink(header.width, header.height, resize) > MAX_SHRINK) source = await preShrunk(source, header, plan, options);

  let image = source.image;
  if (source.hasAlpha) image = image.flatten({ background });
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

  const { data, info } = await toRaw(image, header, options);
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

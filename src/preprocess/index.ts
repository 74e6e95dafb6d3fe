/**
 * Image bytes -> normalised Float32 CHW tensor, driven by a bundle's
 * `input` spec (models/FORMAT.md). The only module that imports sharp.
 */
export type { Preprocessor } from './preprocess-image';
export { createPreprocessor, preprocessImage, preprocessInto } from './preprocess-image';
export { decodableFormats } from './read-header';
export { isDecodableFormat, sniffFormat } from './sniff-format';
export { compileInputSpec } from './input-plan';
export { configureSharp, sharpCounters, sharpState } from './configure-sharp';
export type { DecodePool } from './decode-pool';
export { createDecodePool } from './decode-pool';

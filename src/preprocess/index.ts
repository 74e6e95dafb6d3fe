/**
 * Image bytes -> normalised Float32 CHW tensor, driven by a bundle's
 * `input` spec (models/FORMAT.md). The only module that imports sharp.
 */
export type { Preprocessor } from './preprocess-image';
export { createPreprocessor } from './preprocess-image';
export { sniffFormat } from './sniff-format';
export { compileInputSpec } from './input-plan';
export { configureSharp } from './configure-sharp';
export type { DecodePool } from './decode-pool';
export { createDecodePool } from './decode-pool';
/** @internal For the tests. */
export { preprocessImage, preprocessInto } from './preprocess-image';
/** @internal For the tests. */
export { decodableFormats } from './read-header';
/** @internal For the tests. */
export { isDecodableFormat } from './sniff-format';
/** @internal For the tests. */
export { sharpCounters, sharpState } from './configure-sharp';

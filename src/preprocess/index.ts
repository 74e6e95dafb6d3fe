/**
 * Image bytes -> normalised Float32 CHW tensor, driven by a bundle's
 * `input` spec (models/FORMAT.md). The only module that imports sharp.
 */
export type { ImageFacts, PreprocessedImage, PreprocessOptions, Preprocessor } from './preprocess-image';
export { createPreprocessor, preprocessImage, preprocessInto } from './preprocess-image';
export type { FailOn, ImageHeader } from './read-header';
export { checkMagic, decodableFormats, readHeader } from './read-header';
export type { DecodableFormat, ImageFormat } from './sniff-format';
export { FORMAT_MIME_TYPES, isDecodableFormat, sniffFormat } from './sniff-format';
export type { InputPlan } from './input-plan';
export { compileInputSpec } from './input-plan';
export type { SharpSettings, SharpState } from './configure-sharp';
export { configureSharp, sharpCounters, sharpState } from './configure-sharp';

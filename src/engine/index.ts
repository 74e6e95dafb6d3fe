/** engine/: the only module that imports onnxruntime-node (loaded lazily, in createEngine). */
export { createEngine } from './engine';
export type { EarlyExitGraph, EarlyExitGraphSpec, EarlyExitRun, ScoreKindCode } from './early-exit-graph';
export type { Engine, EngineLogger, EngineOptions, OnExit } from './engine-types';
export { batchSizesUpTo, exitSecondsAt, overheadMsAt, stageMsAt, type BatchTimes, type PathTimes } from './batch-times';
export { PATH_PROFILE_SIZES, profilePaths, type PathProfile } from './path-profile';
export { profileBatchTimes, profileStages } from './profile';
export { isSmallNetwork, SMALL_NETWORK_MACS } from './stage-sessions';
/** @internal For the tests. */
export { sessionOptions } from './stage-sessions';

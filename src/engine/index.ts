/** engine/: the only module that imports onnxruntime-node (loaded lazily, in createEngine). */
export { createEngine, type EngineDeps } from './engine';
export type { EarlyExitGraph, EarlyExitRun, ScoreKindCode } from './early-exit-graph';
export type { Engine, EngineLogger, EngineOptions, EngineRunResult, OnExit, StageTiming } from './engine-types';
export { profileStages, type ProfileOptions, type StageProfile } from './profile';
export { runtimeHasCuda, sessionOptions } from './stage-sessions';
export { gatherRows } from './gather';

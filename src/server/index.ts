/** server/: the HTTP face (the only module that imports express). */
export { startService, type Service } from './start-service';
export { type Logger } from './server-types';
/** @internal For the tests. */
export { createApp } from './app';
/** @internal For the tests. */
export { silentLogger, type AppDeps, type ModelDescription, type Phase, type ServedModel } from './server-types';
/** @internal For the tests. */
export { type ServiceOptions } from './start-service';

/** server/: the HTTP face (the only module that imports express). */
export { createApp } from './app';
export { startService, type Service, type ServiceOptions } from './start-service';
export { silentLogger, type AppDeps, type Logger, type ModelDescription, type Phase, type ServedModel } from './server-types';

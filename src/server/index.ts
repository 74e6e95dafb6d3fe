/** server/: the HTTP face (the only module that imports express). */
export { createApp } from './app';
export { errorAnswer, type ErrorAnswer, type ErrorFlavour } from './error-response';
export { listen, type Listening } from './listen';
export { startService, type Service, type ServiceOptions } from './start-service';
export { silentLogger, type AppDeps, type Logger, type ServedModelEntry } from './server-types';
export { parseClassifyParams, type ClassifyParams } from './params';

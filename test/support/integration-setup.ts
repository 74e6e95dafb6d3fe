/**
 * Set up before each file of the integration project: servers, child processes and whole-model runs on a
 * machine that may be busy get a generous bound. It only ends a hang: no test decides pass or fail by the clock.
 */
jest.setTimeout(300_000);

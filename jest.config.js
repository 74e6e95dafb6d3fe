/**
 * Two projects (docs/testing.md): `unit` (no socket, no child process, no
 * full model run; test/support/unit-guard.ts enforces the first two) and
 * `integration` (files named *.int.test.ts, beside the unit tests of the
 * same src folder). `npx jest --selectProjects unit` runs the first alone.
 */
const common = {
  testEnvironment: '<rootDir>/test/support/node-environment.js',
  roots: ['<rootDir>/test'],
  // Transpile only; `npm test` type-checks the whole project with tsc first (pretest).
  transform: { '^.+\\.ts$': ['<rootDir>/test/support/ts-transform.js', { tsconfig: 'tsconfig.json' }] },
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.int\\.test\\.ts$'],
      setupFilesAfterEnv: ['<rootDir>/test/support/unit-guard.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['**/*.int.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/support/integration-setup.ts'],
    },
  ],
  // Only a hang ends a test (none decides pass or fail by the clock); integration-setup.ts raises it for its project.
  testTimeout: 120_000,
  // Tests load real onnxruntime sessions (one intra-op thread each); two workers suit this 2-core machine.
  maxWorkers: 2,
  // A worker that grew past this (native sessions, sharp's caches) is replaced before its next file.
  workerIdleMemoryLimit: '1GB',
};

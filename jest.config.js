/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: '<rootDir>/test/support/node-environment.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Transpile only; `npm test` type-checks the whole project with tsc first (pretest).
  transform: { '^.+\\.ts$': ['<rootDir>/test/support/ts-transform.js', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 60000,
  // Tests load real onnxruntime sessions; two workers suit this 2-core machine.
  maxWorkers: 2,
};

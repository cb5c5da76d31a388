// Shared jest settings: TypeScript through SWC, sibling packages resolved to their sources so
// tests never need a build first.
const path = require('node:path');

module.exports = (packageDir) => ({
  rootDir: packageDir,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)sx?$': [
      '@swc/jest',
      { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
    ],
  },
  moduleNameMapper: {
    '^@gensynth/([a-z-]+)$': path.join(__dirname, 'packages/$1/src/index.ts'),
  },
  testTimeout: 120000,
  maxWorkers: 2,
  // A package whose tests are not written yet still reports (0 tests) instead of failing CI.
  passWithNoTests: true,
});

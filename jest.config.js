/** Unit specs live beside the code (src/**\/*.spec.ts); e2e specs in test/ (*.e2e-spec.ts). */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];
// NestJS 12 and a few of its dependencies ship ESM only; Jest on Node 20 cannot require() ESM.
const transformIgnorePatterns = [
  '/node_modules/(?!(?:.*/node_modules/)?(?:@nestjs|content-disposition|cookie|file-type|jose|eventsource-parser)/)',
];
const common = { transform: { '^.+\\.(t|j)s$': swc }, transformIgnorePatterns, testEnvironment: 'node' };

module.exports = {
  // Global only: Jest ignores testTimeout inside a project. E2E tests boot apps, processes and databases.
  testTimeout: 30000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
};

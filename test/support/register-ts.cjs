// Lets `node -r ./test/support/register-ts.cjs file.ts` run the service's TypeScript without a build:
// .ts files are compiled as they are required, with @swc/core (the compiler Jest uses here), keeping
// decorator metadata, which Nest's dependency injection reads.
'use strict';
const { transformFileSync } = require('@swc/core');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformFileSync(filename, {
    swcrc: false,
    sourceMaps: 'inline',
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};

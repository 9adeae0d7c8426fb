// The echo server as a stdio process for the registry tests. Node 20 cannot run TypeScript, so .ts files
// are compiled as they are required, with @swc/core (the compiler Jest uses here).
'use strict';
const { transformFileSync } = require('@swc/core');
const { StdioServerTransport } = require('@modelcontextprotocol/sdk/server/stdio.js');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformFileSync(filename, {
    swcrc: false,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};

const { createEchoServer } = require('./echo-server.ts');

createEchoServer()
  .connect(new StdioServerTransport())
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });

// The echo server as a stdio process for the registry tests (Node 20 cannot run TypeScript: see register-ts.cjs).
'use strict';
require('../register-ts.cjs');
const { StdioServerTransport } = require('@modelcontextprotocol/sdk/server/stdio.js');

const { createEchoServer } = require('./echo-server.ts');

createEchoServer()
  .connect(new StdioServerTransport())
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });

// Creates the application (test/support/test-app.ts) with MCP_CONFIG = argv[2] in a process of its own and
// prints how that went as JSON, on the last line. Its own process, because a creation that fails leaves open
// what it had opened already (the embedded database): Nest runs no shutdown hook then; the exit closes it.
'use strict';
require('../register-ts.cjs');

const { createTestApp } = require('../test-app.ts');

createTestApp({ env: { MCP_CONFIG: process.argv[2] } }).then(
  async (app) => {
    await app.close();
    process.stdout.write(`\n${JSON.stringify({ created: true })}\n`);
    process.exit(0);
  },
  (error) => {
    process.stdout.write(`\n${JSON.stringify({ created: false, name: error.name, problems: error.problems })}\n`);
    process.exit(1);
  },
);

/**
 * Module boundaries (docs: STYLE.md "Dependencies point one way"); `npm run lint` fails on any of these.
 * @type {import('dependency-cruiser').IConfiguration}
 */
const FEATURES = '(agent|auth|chat|database|health|metrics|rate-limit|tasks|config|bootstrap)';

const forbid = (name, comment, from, to) => ({ name, comment, severity: 'error', from, to });

module.exports = {
  forbidden: [
    forbid(
      'no-circular',
      'A cycle, type-only imports included, means two modules are one; a forwardRef is a boundary bug.',
      {},
      { circular: true },
    ),
    forbid(
      'agent-not-to-chat',
      'chat -> agent is the only direction: the agent owns its turn types.',
      { path: '^src/agent/' },
      { path: '^src/chat/' },
    ),
    forbid(
      'tasks-not-to-chat',
      'The tasks MCP server plugs into the agent; it knows nothing of chat.',
      { path: '^src/tasks/' },
      { path: '^src/chat/' },
    ),
    forbid(
      'common-not-to-features',
      'common holds building blocks every feature may use, so it imports none of them, config included: ' +
        'what a common piece needs from the configuration is passed in by the composition root.',
      { path: '^src/common/' },
      { path: `^src/${FEATURES}/` },
    ),
    forbid(
      'probes-not-to-auth',
      'Health and metrics stay answerable whatever auth does: @Public() lives in common/http.',
      { path: '^src/(health|metrics)/' },
      { path: '^src/auth/' },
    ),
    forbid(
      'database-not-to-features',
      'The composition root hands the database its entities; database imports no feature (config aside).',
      { path: '^src/database/' },
      { path: '^src/(agent|auth|chat|health|metrics|rate-limit|tasks|bootstrap)/' },
    ),
    forbid(
      'only-main-to-bootstrap',
      'bootstrap/ builds the application: only main.ts (and scripts, tests outside src) start it.',
      { path: '^src/', pathNot: '^src/(main\\.ts$|bootstrap/)' },
      { path: '^src/bootstrap/' },
    ),
    forbid(
      'chat-not-to-anthropic-sdk',
      'Talking to Claude, context windowing included, is the agent’s job.',
      { path: '^src/chat/' },
      { path: '(^|/)node_modules/@anthropic-ai/sdk/' },
    ),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '\\.spec\\.ts$' },
  },
};

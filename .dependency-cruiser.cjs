/**
 * Module boundaries (docs: STYLE.md "Dependencies point one way"); `npm run lint` fails on any of these.
 * @type {import('dependency-cruiser').IConfiguration}
 */
const FEATURES = '(agent|auth|chat|database|health|metrics|rate-limit|tasks|config|bootstrap)';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle, type-only imports included, means two modules are one; a forwardRef is a boundary bug.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'agent-not-to-chat',
      comment: 'chat -> agent is the only direction: the agent owns its turn types.',
      severity: 'error',
      from: { path: '^src/agent/' },
      to: { path: '^src/chat/' },
    },
    {
      name: 'tasks-not-to-chat',
      comment: 'The tasks MCP server plugs into the agent; it knows nothing of chat.',
      severity: 'error',
      from: { path: '^src/tasks/' },
      to: { path: '^src/chat/' },
    },
    {
      name: 'common-not-to-features',
      comment:
        'common holds building blocks every feature may use, so it imports none of them, config included: ' +
        'what a common piece needs from the configuration is passed in by the composition root.',
      severity: 'error',
      from: { path: '^src/common/' },
      to: { path: `^src/${FEATURES}/` },
    },
    {
      name: 'probes-not-to-auth',
      comment: 'Health and metrics stay answerable whatever auth does: @Public() lives in common/http.',
      severity: 'error',
      from: { path: '^src/(health|metrics)/' },
      to: { path: '^src/auth/' },
    },
    {
      name: 'database-not-to-features',
      comment: 'The composition root hands the database its entities; database imports no feature (config aside).',
      severity: 'error',
      from: { path: '^src/database/' },
      to: { path: '^src/(agent|auth|chat|health|metrics|rate-limit|tasks|bootstrap)/' },
    },
    {
      name: 'only-main-to-bootstrap',
      comment: 'bootstrap/ builds the application: only main.ts (and scripts, tests outside src) start it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(main\\.ts$|bootstrap/)' },
      to: { path: '^src/bootstrap/' },
    },
    {
      name: 'chat-not-to-anthropic-sdk',
      comment: 'Talking to Claude, context windowing included, is the agent’s job.',
      severity: 'error',
      from: { path: '^src/chat/' },
      to: { path: '(^|/)node_modules/@anthropic-ai/sdk/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '\\.spec\\.ts$' },
  },
};

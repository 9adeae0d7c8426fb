import { join } from 'node:path';
import { loadConfig } from '../src/config/app-config';
import { McpClientRegistry } from '../src/agent/mcp/mcp-client-registry';
import type { McpServerStatus, ToolCallContext } from '../src/agent/mcp/mcp.types';
import type { McpServerDefinition } from '../src/agent/mcp/mcp-server-definition';
import { INHERITED_ENV_VARS } from '../src/agent/mcp/stdio-environment';
import { ToolCatalogue } from '../src/agent/tools/tool-catalogue';
import { createEchoServer } from './support/mcp/echo-server';
import { startStreamableHttpHost, type StreamableHttpHost } from './support/mcp/streamable-http-host';

jest.setTimeout(20_000);

const STDIO_ENTRY = join(__dirname, 'support/mcp/echo-server.stdio.cjs');
const ALICE: ToolCallContext = { userId: 'alice', token: 'token-alice' };
/** Slack for timers and scheduling on top of a timeout. */
const SLACK_MS = 250;

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe(McpClientRegistry.name, () => {
  const serviceEnv = { JWT_SECRET: process.env.JWT_SECRET, ANTHROPIC_API_KEY: process.env.ANTHROPIC_API_KEY };
  let host: StreamableHttpHost;
  let registry: McpClientRegistry;
  let catalogue: ToolCatalogue;

  const stateOf = (server: string): McpServerStatus | undefined =>
    registry.status().find((status) => status.name === server);
  const toolsOf = (server: string): string[] =>
    registry
      .toolsFor(ALICE.userId)
      .tools.filter((tool) => tool.server === server)
      .map((tool) => tool.name);
  const stdioPid = async (): Promise<number> => {
    const outcome = await registry.callTool('stdio', 'whoami', {}, ALICE);
    return (outcome.structured as { pid: number }).pid;
  };

  beforeAll(async () => {
    // Secrets in the service's environment that a stdio server must never see.
    process.env.JWT_SECRET = 'service-jwt-secret';
    process.env.ANTHROPIC_API_KEY = 'sk-ant-service-key';
    host = await startStreamableHttpHost(createEchoServer);
    const definitions: McpServerDefinition[] = [
      { name: 'inproc', transport: { type: 'in-memory', createServer: createEchoServer }, timeoutMs: 500 },
      {
        name: 'stdio',
        transport: { type: 'stdio', command: process.execPath, args: [STDIO_ENTRY], env: { ECHO_GREETING: 'hello' } },
      },
      {
        name: 'http',
        transport: { type: 'http', url: host.url },
        allowedTools: ['echo', 'whoami', 'explode', 'refuse', 'hang'],
      },
      { name: 'broken', transport: { type: 'stdio', command: '/nonexistent/mcp-server' } },
    ];
    const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40), CHAT_TOOL_TIMEOUT_MS: '1000' });
    registry = new McpClientRegistry(definitions, config);
    catalogue = new ToolCatalogue(registry);
    await registry.onModuleInit();
  });

  afterAll(async () => {
    await registry.onApplicationShutdown();
    await host.close();
    for (const [key, value] of Object.entries(serviceEnv)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('connects over all three transports and lists their tools, prefixing names that clash', () => {
    expect(
      registry
        .status()
        .filter((status) => status.state === 'connected')
        .map((status) => status.name),
    ).toEqual(['inproc', 'stdio', 'http']);
    expect(toolsOf('http')).toEqual(['echo', 'explode', 'hang', 'refuse', 'whoami']);
    const names = catalogue.anthropicTools(ALICE.userId).map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['http__echo', 'inproc__echo', 'stdio__echo', 'stdio__environment']));
    expect(catalogue.resolve(ALICE.userId, 'http__echo')).toEqual({
      anthropicName: 'http__echo',
      server: 'http',
      tool: 'echo',
    });
    expect(names).not.toContain('http__environment');
  });

  it('does not fail the boot for a server that cannot start, and reports it in status()', () => {
    const broken = stateOf('broken');

    expect(broken?.state).not.toBe('connected');
    expect(broken?.tools).toBe(0);
    expect(broken?.error).toMatch(/ENOENT/);
  });

  it.each(['inproc', 'stdio', 'http'])(
    'round-trips a tool call over %s, with text and structured content',
    async (server) => {
      const outcome = await registry.callTool(server, 'echo', { text: 'hi there' }, ALICE);

      expect(outcome).toEqual({
        isError: false,
        text: 'hi there',
        structured: { text: 'hi there' },
        durationMs: expect.any(Number),
      });
    },
  );

  it("hands each caller's identity to the in-process handler, also for concurrent calls", async () => {
    const bob: ToolCallContext = { userId: 'bob', token: 'token-bob' };

    // Alice's call starts first and ends last, so the two calls overlap on the one shared connection.
    const [alice, bobs] = await Promise.all([
      registry.callTool('inproc', 'whoami', { delayMs: 80, userId: 'mallory' }, ALICE),
      registry.callTool('inproc', 'whoami', { delayMs: 10 }, bob),
    ]);

    expect(alice.structured).toMatchObject({ userId: 'alice', token: 'token-alice', clientId: 'chat-service' });
    expect(bobs.structured).toMatchObject({ userId: 'bob', token: 'token-bob', clientId: 'chat-service' });
  });

  it.each(['inproc', 'stdio'])(
    'refreshes the tool list when %s announces a change, without a restart',
    async (server) => {
      const added = `${server}_extra`;
      const { version } = registry.toolsFor(ALICE.userId);

      await registry.callTool(server, 'add_tool', { name: added }, ALICE);
      await waitFor(() => toolsOf(server).includes(added), `${added} in the tool list`);

      expect(registry.toolsFor(ALICE.userId).version).not.toBe(version);
      expect(catalogue.resolve(ALICE.userId, added)).toEqual({ anthropicName: added, server, tool: added });
      expect(await registry.callTool(server, added, {}, ALICE)).toMatchObject({ isError: false, text: added });
    },
  );

  it('passes a stdio server only its own env and the basic process variables, never the service secrets', async () => {
    const outcome = await registry.callTool('stdio', 'environment', {}, ALICE);
    const names = (outcome.structured as { names: string[] }).names;

    expect(names).toContain('ECHO_GREETING');
    expect(names).not.toContain('JWT_SECRET');
    expect(names).not.toContain('ANTHROPIC_API_KEY');
    // LOGNAME comes from the SDK's own default environment.
    expect([...INHERITED_ENV_VARS, 'LOGNAME', 'ECHO_GREETING']).toEqual(expect.arrayContaining(names));
  });

  it('returns a tool that throws as an error outcome with its message', async () => {
    expect(await registry.callTool('inproc', 'explode', {}, ALICE)).toMatchObject({
      isError: true,
      text: 'echo exploded',
    });
  });

  it("returns a tool's isError result as an error outcome the model can explain", async () => {
    expect(await registry.callTool('http', 'refuse', {}, ALICE)).toMatchObject({
      isError: true,
      text: 'task 999 not found',
    });
  });

  it('answers unknown servers, unknown tools and tools outside allowedTools with a tool error', async () => {
    expect(await registry.callTool('nope', 'echo', {}, ALICE)).toMatchObject({
      isError: true,
      text: 'Tool echo is unavailable: there is no MCP server nope',
    });
    expect(await registry.callTool('inproc', 'nope', {}, ALICE)).toMatchObject({
      isError: true,
      text: 'Tool nope is not available on server inproc',
    });
    expect(await registry.callTool('http', 'environment', {}, ALICE)).toMatchObject({
      isError: true,
      text: 'Tool environment is not available on server http',
    });
  });

  it('reports invalid arguments as a tool error', async () => {
    const outcome = await registry.callTool('stdio', 'echo', { text: 42 }, ALICE);

    expect(outcome.isError).toBe(true);
    expect(outcome.text).toMatch(/Invalid arguments for tool echo/);
  });

  it.each([
    ['inproc', 500],
    ['stdio', 1000],
    ['http', 1000],
  ])(
    'gives up on a tool of %s that never answers after its timeout (its own, else CHAT_TOOL_TIMEOUT_MS), and keeps serving',
    async (server, expected) => {
      const started = Date.now();

      const outcome = await registry.callTool(server, 'hang', {}, ALICE);

      expect(outcome).toMatchObject({
        isError: true,
        text: `Tool hang on server ${server} timed out after ${expected} ms`,
      });
      expect(Date.now() - started).toBeLessThan(expected + SLACK_MS);
      expect(await registry.callTool(server, 'echo', { text: 'still here' }, ALICE)).toMatchObject({ isError: false });
    },
  );

  it('stops waiting when the caller aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);

    const outcome = await registry.callTool('stdio', 'hang', {}, { ...ALICE, signal: controller.signal });

    expect(outcome).toMatchObject({ isError: true, text: 'Tool hang on server stdio was cancelled' });
  });

  it('drops the tools of a stdio server whose process died, fails its calls, then reconnects it', async () => {
    const pid = await stdioPid();

    process.kill(pid, 'SIGKILL');
    await waitFor(() => stateOf('stdio')?.state !== 'connected', 'stdio to be seen as down');

    expect(toolsOf('stdio')).toEqual([]);
    const outcome = await registry.callTool('stdio', 'echo', { text: 'anyone?' }, ALICE);
    expect(outcome).toMatchObject({
      isError: true,
      text: expect.stringMatching(/^Tool echo on server stdio is unavailable/),
    });

    await waitFor(() => stateOf('stdio')?.state === 'connected', 'stdio to reconnect');
    expect(toolsOf('stdio')).toContain('echo');
    expect(await stdioPid()).not.toBe(pid);
  });

  it('starts a new session and retries once when the HTTP server forgot the session', async () => {
    const sessionsBefore = host.sessionsStarted;
    await host.forgetSessions();

    const outcome = await registry.callTool('http', 'echo', { text: 'after expiry' }, ALICE);

    expect(outcome).toMatchObject({ isError: false, text: 'after expiry' });
    expect(host.sessionsStarted).toBe(sessionsBefore + 1);
    expect(stateOf('http')?.state).toBe('connected');
  });

  it('drops the tools of an HTTP server that went away, then reconnects when it is back', async () => {
    const port = host.port;
    await host.close();

    const outcome = await registry.callTool('http', 'echo', { text: 'anyone?' }, ALICE);

    expect(outcome).toMatchObject({
      isError: true,
      text: expect.stringMatching(/^Tool echo on server http is unavailable/),
    });
    expect(stateOf('http')?.state).not.toBe('connected');
    expect(toolsOf('http')).toEqual([]);

    host = await startStreamableHttpHost(createEchoServer, port);
    await waitFor(() => stateOf('http')?.state === 'connected', 'http to reconnect');
    expect(await registry.callTool('http', 'echo', { text: 'back' }, ALICE)).toMatchObject({
      isError: false,
      text: 'back',
    });
  });

  it('closes every client on shutdown, leaving no stdio child process behind', async () => {
    const pid = await stdioPid();
    expect(isProcessAlive(pid)).toBe(true);

    await registry.onApplicationShutdown();

    expect(isProcessAlive(pid)).toBe(false);
    expect(await registry.callTool('inproc', 'echo', { text: 'late' }, ALICE)).toMatchObject({ isError: true });
  });
});

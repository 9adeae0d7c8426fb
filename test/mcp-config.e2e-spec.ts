import jwt, { type JwtPayload } from 'jsonwebtoken';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpClientRegistry } from '../src/agent/mcp/mcp-client-registry';
import type { ToolCallContext } from '../src/agent/mcp/mcp.types';
import { deriveMcpTokenSecret } from '../src/auth/mcp-token-key';
import type { McpServerDefinition } from '../src/agent/mcp/mcp-server-definition';
import { SERVICE_IDENTITY } from '../src/agent/mcp/per-user-mcp-client';
import { ConfigError, loadConfig } from '../src/config/app-config';
import { ECHO_STDIO_ENTRY } from './support/chat-harness';
import { createEchoServer } from './support/mcp/echo-server';
import {
  startStreamableHttpHost,
  type RecordedMcpRequest,
  type StreamableHttpHost,
} from './support/mcp/streamable-http-host';
import { createTestApp, newUserId, TEST_JWT_SECRET, type TestApp } from './support/test-app';

jest.setTimeout(30_000);

/** The published reference server; its CLI takes the transport as first argument. */
const EVERYTHING_ENTRY = require.resolve('@modelcontextprotocol/server-everything/dist/index.js');
const CREATE_APP_ENTRY = join(__dirname, 'support/mcp/create-app.process.cjs');
const LEAKED_SECRET = 'sk-live-do-not-leak-0123456789';

const bearerOf = (request: RecordedMcpRequest): JwtPayload => {
  const token = String(request.headers.authorization).replace(/^Bearer /, '');
  return jwt.verify(token, deriveMcpTokenSecret(TEST_JWT_SECRET), { algorithms: ['HS256'] }) as JwtPayload;
};

function writeConfig(dir: string, mcpServers: Record<string, unknown>): string {
  const file = join(dir, `mcp-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ mcpServers }, null, 2));
  return file;
}

/** An HTTP endpoint that fails every request and echoes its Authorization header back, as a careless server might. */
async function startEchoingFailure(): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) =>
    res.writeHead(500).end(`bad credentials: ${req.headers.authorization}`),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('MCP_CONFIG', () => {
  let dir: string;
  let host: StreamableHttpHost;
  let failing: { url: string; close: () => Promise<void> };
  let t: TestApp;
  let registry: McpClientRegistry;

  const toolsOf = (server: string): string[] =>
    registry
      .toolsFor('u1')
      .tools.filter((tool) => tool.server === server)
      .map((tool) => tool.name);
  const as = (userId: string): ToolCallContext => ({ userId });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcp-config-e2e-'));
    host = await startStreamableHttpHost(createEchoServer);
    failing = await startEchoingFailure();
    const file = writeConfig(dir, {
      tasks: { builtin: 'tasks' },
      echo: { command: process.execPath, args: [ECHO_STDIO_ENTRY], allowed_tools: ['echo', 'whoami'] },
      remote: {
        url: host.url,
        headers: { 'X-User': '{{user_id}}', Authorization: 'Bearer {{user_token}}', 'X-Client': 'chat-service-e2e' },
        timeout_ms: 5000,
      },
      everything: { command: process.execPath, args: [EVERYTHING_ENTRY, 'stdio'] },
      switched_off: { command: process.execPath, args: [ECHO_STDIO_ENTRY], enabled: false },
      broken: { command: '/nonexistent/mcp-server', env: { API_TOKEN: LEAKED_SECRET } },
      leaky: { url: failing.url, headers: { Authorization: `Bearer ${LEAKED_SECRET}` } },
    });
    t = await createTestApp({ env: { MCP_CONFIG: file } });
    registry = t.app.get(McpClientRegistry);
  });

  afterAll(async () => {
    await t?.close();
    await host.close();
    await failing.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects exactly the enabled servers of the file, in its order, and leaves a disabled one out', () => {
    expect(registry.status().map((status) => [status.name, status.state])).toEqual([
      ['tasks', 'connected'],
      ['echo', 'connected'],
      ['remote', 'connected'],
      ['everything', 'connected'],
      ['broken', 'failed'],
      ['leaky', 'failed'],
    ]);
  });

  it('offers only the allowed_tools of a server', () => {
    expect(toolsOf('echo')).toEqual(['echo', 'whoami']);
  });

  it('maps { "builtin": "tasks" } to the built-in tasks server', () => {
    expect(toolsOf('tasks')).toEqual(expect.arrayContaining(['add_task', 'list_tasks', 'complete_task']));
  });

  it('lists the tools of the published server-everything over stdio and calls its echo tool', async () => {
    expect(toolsOf('everything')).toEqual(expect.arrayContaining(['echo', 'get-sum', 'get-env']));

    const outcome = await registry.callTool('everything', 'echo', { message: 'hello from chat-service' }, as('u1'));

    expect(outcome).toMatchObject({ isError: false, text: 'Echo: hello from chat-service' });
  });

  it('discovers the tools of a per-user server at boot as the service identity', () => {
    const discovery = host.requests.filter((request) => request.headers['x-user'] === SERVICE_IDENTITY);

    expect(toolsOf('remote')).toEqual(expect.arrayContaining(['echo', 'whoami']));
    expect(discovery.length).toBeGreaterThan(0);
    expect(bearerOf(discovery[0])).toMatchObject({ sub: SERVICE_IDENTITY, aud: 'remote' });
  });

  it('sends each user their own X-User and a JWT for the server (sub = user, aud = server), each on a session of their own', async () => {
    const [alice, bob] = [newUserId(), newUserId()];

    for (const user of [alice, bob, alice]) {
      expect(await registry.callTool('remote', 'echo', { text: user }, as(user))).toMatchObject({
        isError: false,
        text: user,
      });
    }

    const sessions = new Set<string | undefined>();
    for (const user of [alice, bob]) {
      const requests = host.requests.filter((request) => request.headers['x-user'] === user);
      expect(requests.length).toBeGreaterThan(0);
      for (const request of requests) {
        const claims = bearerOf(request);
        expect(claims).toMatchObject({ sub: user, aud: 'remote' });
        expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(300);
        expect(request.headers['x-client']).toBe('chat-service-e2e');
      }
      const own = new Set(requests.map((request) => request.sessionId));
      expect(own.size).toBe(1);
      sessions.add([...own][0]);
    }
    expect(sessions.size).toBe(2);
  });

  it('starts a new session for a user whose session the server forgot, and retries the call once', async () => {
    const carol = newUserId();
    await registry.callTool('remote', 'echo', { text: 'before' }, as(carol));

    await host.forgetSessions();
    const outcome = await registry.callTool('remote', 'echo', { text: 'after' }, as(carol));

    expect(outcome).toMatchObject({ isError: false, text: 'after' });
    const sessions = host.requests
      .filter((request) => request.headers['x-user'] === carol && request.sessionId !== undefined)
      .map((request) => request.sessionId);
    expect(new Set(sessions).size).toBe(2);
  });

  it('never lets a user id inject a header line into a per-user server', async () => {
    const outcome = await registry.callTool('remote', 'echo', { text: 'x' }, as('eve\r\nX-Admin: true'));

    expect(outcome).toMatchObject({
      isError: true,
      text: 'Tool echo on server remote is unavailable: the user id cannot be sent in an HTTP header',
    });
    expect(host.requests.some((request) => 'x-admin' in request.headers)).toBe(false);
  });

  it('refuses the service identity as a user of a per-user server', async () => {
    const outcome = await registry.callTool('remote', 'echo', { text: 'x' }, as(SERVICE_IDENTITY));

    expect(outcome.isError).toBe(true);
    expect(outcome.text).toContain('reserved for the service itself');
  });

  it('keeps booting past a server that fails to start: /health/ready stays 200 and /api/{u}/tools reports it failed', async () => {
    const user = newUserId();

    const ready = await t.app.inject({ method: 'GET', url: '/health/ready' });
    const tools = await t.app.inject({ method: 'GET', url: `/api/${user}/tools`, headers: t.authHeaders(user) });

    expect(ready.statusCode).toBe(200);
    expect(tools.statusCode).toBe(200);
    const broken = tools.json().servers.find((server: { name: string }) => server.name === 'broken');
    expect(broken).toEqual({ name: 'broken', status: 'failed', tools: 0, error: expect.stringMatching(/ENOENT/) });
  });

  it('shows no header value or env value in the errors of failed servers', async () => {
    const user = newUserId();

    const response = await t.app.inject({ method: 'GET', url: `/api/${user}/tools`, headers: t.authHeaders(user) });

    const leaky = response.json().servers.find((server: { name: string }) => server.name === 'leaky');
    expect(leaky).toMatchObject({ status: 'failed', error: expect.stringContaining('bad credentials: [redacted]') });
    expect(response.body).not.toContain(LEAKED_SECRET);
  });
});

interface CreationOutcome {
  created: boolean;
  name?: string;
  problems?: string[];
}

/** Creates the whole application with this MCP_CONFIG, in a process of its own (see the fixture for why). */
function createAppInOwnProcess(mcpConfig: string): Promise<CreationOutcome> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CREATE_APP_ENTRY, mcpConfig], { timeout: 45_000 }, (error, stdout, stderr) => {
      try {
        // The last line: Nest may have logged before it.
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as CreationOutcome);
      } catch {
        reject(new Error(`the app creation process printed no outcome: ${error?.message ?? ''}\n${stderr}`));
      }
    });
  });
}

describe('MCP_CONFIG that is wrong', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mcp-config-bad-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stops app creation with a ConfigError that names every bad key', async () => {
    const file = writeConfig(dir, {
      github: { url: 'github.com/mcp', headers: { Authorization: 'Bearer {{token}}' } },
      tasks: { builtin: 'calendar' },
      files: { command: 'node', timeout: 5 },
    });

    const outcome = await createAppInOwnProcess(file);

    expect(outcome).toEqual({
      created: false,
      name: ConfigError.name,
      problems: [
        'mcpServers.github.url: must be an http(s) URL',
        'mcpServers.github.headers.Authorization: unknown placeholder {{token}}: use {{user_id}} or {{user_token}}',
        'mcpServers.tasks.builtin: unknown built-in server (available: tasks)',
        'mcpServers.files.timeout: unknown key',
      ],
    });
  });

  it('stops app creation with a ConfigError when the file does not exist', async () => {
    const file = join(dir, 'nowhere.json');

    expect(await createAppInOwnProcess(file)).toEqual({
      created: false,
      name: ConfigError.name,
      problems: [`MCP_CONFIG: cannot read ${file} (ENOENT)`],
    });
  });
});

describe('A per-user MCP server that refuses the service identity', () => {
  let host: StreamableHttpHost;
  let registry: McpClientRegistry;

  beforeAll(async () => {
    host = await startStreamableHttpHost(createEchoServer, 0, {
      accept: (headers) => headers['x-user'] !== SERVICE_IDENTITY,
    });
    const definition: McpServerDefinition = {
      name: 'strict',
      transport: { type: 'http', url: host.url, headers: { 'X-User': '{{user_id}}' } },
    };
    registry = new McpClientRegistry([definition], loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET }));
    await registry.onModuleInit();
  });
  afterAll(async () => {
    await registry.onApplicationShutdown();
    await host.close();
  });

  it("reports the refused discovery, then lists each user's tools from that user's own connection only", async () => {
    expect(registry.status()).toEqual([
      { name: 'strict', state: 'failed', tools: 0, error: expect.stringContaining('was refused') },
    ]);
    expect(registry.toolsFor('alice').tools).toEqual([]);

    await registry.prepareForUser('alice');

    expect(registry.status('alice')).toEqual([{ name: 'strict', state: 'connected', tools: expect.any(Number) }]);
    expect(registry.toolsFor('alice')).toMatchObject({ personal: true });
    expect(registry.toolsFor('alice').tools.map((tool) => tool.name)).toContain('echo');
    expect(registry.toolsFor('bob')).toMatchObject({ tools: [], personal: false });
    expect(registry.status('bob')).toEqual([expect.objectContaining({ state: 'failed', tools: 0 })]);
    expect(await registry.callTool('strict', 'echo', { text: 'hi' }, { userId: 'alice' })).toMatchObject({
      isError: false,
      text: 'hi',
    });
  });

  it('does not retry a discovery the server refused', async () => {
    const refused = () => host.requests.filter((request) => request.headers['x-user'] === SERVICE_IDENTITY).length;
    const before = refused();

    await new Promise((resolve) => setTimeout(resolve, 1500));

    expect(refused()).toBe(before);
  });
});

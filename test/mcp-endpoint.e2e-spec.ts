import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LATEST_PROTOCOL_VERSION, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import jwt from 'jsonwebtoken';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { TaskEntity } from '../src/tasks/task.entity';
import { createTestApp, newUserId, TEST_JWT_SECRET, type TestApp } from './support/test-app';

const MCP_ACCEPT = 'application/json, text/event-stream';
const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '1.0.0' } },
};
const LIST_TOOLS = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };

/** The app served on a port, for MCP clients that speak real HTTP to its `/mcp`. */
async function serveWithMcp(env: Record<string, string> = {}): Promise<{ t: TestApp; url: URL }> {
  const t = await createTestApp({ env });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.getHttpServer().address() as AddressInfo;
  return { t, url: new URL(`http://127.0.0.1:${port}/mcp`) };
}

/** The SDK's own client, as Claude Desktop or MCP Inspector would connect, kept in `clients` to be closed. */
async function connectSdkClient(
  url: URL,
  headers: Record<string, string>,
  clients: Client[],
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers } });
  const client = new Client({ name: 'e2e', version: '1.0.0' });
  clients.push(client);
  await client.connect(transport);
  return { client, transport };
}

describe('/mcp: the tasks MCP server over Streamable HTTP', () => {
  let t: TestApp;
  let url: URL;
  const clients: Client[] = [];

  beforeAll(async () => {
    ({ t, url } = await serveWithMcp());
  });
  afterAll(() => t.close());
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });

  const connect = (userId: string) => connectSdkClient(url, t.authHeaders(userId), clients);

  const call = (client: Client, name: string, args: Record<string, unknown> = {}) =>
    client.callTool({ name, arguments: args }) as Promise<CallToolResult>;

  /** A raw MCP POST, for what the SDK client would not send. */
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: MCP_ACCEPT, ...headers },
      body: JSON.stringify(body),
    });

  const tasksOf = (userId: string) =>
    t.dataSource.getRepository(TaskEntity).find({ where: { userId }, order: { id: 'ASC' } });

  describe('authentication', () => {
    it('answers 401 problem+json with a Bearer challenge to a request without a token', async () => {
      const response = await post(INITIALIZE);

      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(await response.json()).toMatchObject({ status: 401, code: 'unauthorized' });
    });

    it.each([
      ['a malformed token', () => 'not-a-jwt'],
      ['a token signed with another key', () => jwt.sign({ sub: 'alice' }, 'another-secret', { expiresIn: '5m' })],
      ['an expired token', () => jwt.sign({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 600 }, TEST_JWT_SECRET)],
    ])('answers 401 with error="invalid_token" to %s', async (_case, token) => {
      const response = await post(INITIALIZE, { authorization: `Bearer ${token()}` });

      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
      expect(await response.json()).toMatchObject({ code: 'unauthorized' });
    });

    it('authenticates every request of a session: an expired token on an open session gets 401', async () => {
      const userId = newUserId();
      const { transport } = await connect(userId);
      const expired = jwt.sign({ sub: userId, exp: Math.floor(Date.now() / 1000) - 600 }, TEST_JWT_SECRET);

      const response = await post(LIST_TOOLS, {
        authorization: `Bearer ${expired}`,
        'mcp-session-id': String(transport.sessionId),
      });

      expect(response.status).toBe(401);
    });
  });

  it('lists the five task tools to an MCP client, each with its input and output schema', async () => {
    const { client } = await connect(newUserId());

    const { tools } = await client.listTools();

    expect(tools.map((tool) => tool.name).sort()).toEqual([
      'add_task',
      'complete_task',
      'delete_task',
      'list_tasks',
      'update_task',
    ]);
    for (const tool of tools) {
      expect(tool.inputSchema).toMatchObject({ type: 'object', additionalProperties: false });
      expect(tool.outputSchema).toMatchObject({ type: 'object' });
    }
  });

  it('adds, lists and completes a task for the token’s user', async () => {
    const userId = newUserId();
    const { client } = await connect(userId);

    const added = await call(client, 'add_task', { title: 'Renew passport', description: 'Before June' });
    const taskId = (added.structuredContent as { task_id: number }).task_id;
    const listed = await call(client, 'list_tasks', { status: 'pending' });
    const completed = await call(client, 'complete_task', { task_id: taskId });

    expect(added.structuredContent).toEqual({ task_id: taskId, status: 'created', title: 'Renew passport' });
    expect(listed.structuredContent).toEqual({
      tasks: [
        {
          task_id: taskId,
          title: 'Renew passport',
          description: 'Before June',
          completed: false,
          created_at: expect.any(String),
        },
      ],
      has_more: false,
      next_cursor: null,
    });
    expect(completed.structuredContent).toEqual({ task_id: taskId, status: 'completed', title: 'Renew passport' });
    expect(await tasksOf(userId)).toEqual([expect.objectContaining({ id: taskId, completed: true })]);
  });

  it('refuses an undeclared user_id argument instead of ignoring it', async () => {
    const [userId, other] = [newUserId(), newUserId()];
    const { client } = await connect(userId);

    const result = await call(client, 'add_task', { title: 'Planted', user_id: other });

    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toMatch(/Unrecognized key: \\"user_id\\"/);
    expect(await tasksOf(other)).toEqual([]);
    expect(await tasksOf(userId)).toEqual([]);
  });

  it.each([
    ['a NUL', 'Buy\u0000milk'],
    ['a lone surrogate', 'Buy \ud800 milk'],
  ])('refuses a title with %s as a tool error naming the field, storing nothing', async (_case, title) => {
    const userId = newUserId();
    const { client } = await connect(userId);

    const result = await call(client, 'add_task', { title });

    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toMatch(/title must not contain NUL characters or unpaired surrogates/);
    expect(await tasksOf(userId)).toEqual([]);
  });

  describe('sessions', () => {
    it('answers a session opened by A to B’s token with 404, exactly as for an unknown session', async () => {
      const [a, b] = [newUserId(), newUserId()];
      const { client, transport } = await connect(a);
      const headers = { 'mcp-protocol-version': LATEST_PROTOCOL_VERSION, ...t.authHeaders(b) };

      const foreign = await post(LIST_TOOLS, { ...headers, 'mcp-session-id': String(transport.sessionId) });
      const unknown = await post(LIST_TOOLS, { ...headers, 'mcp-session-id': randomUUID() });

      expect(foreign.status).toBe(404);
      expect(unknown.status).toBe(404);
      expect(await foreign.json()).toEqual(await unknown.json());
      // B's attempt neither ended nor took over A's session.
      expect((await client.listTools()).tools).toHaveLength(5);
    });

    it('shows B only B’s tasks, and B cannot complete A’s task', async () => {
      const [a, b] = [newUserId(), newUserId()];
      const { client: clientA } = await connect(a);
      const { client: clientB } = await connect(b);
      const added = await call(clientA, 'add_task', { title: 'A’s task' });
      const taskOfA = (added.structuredContent as { task_id: number }).task_id;
      await call(clientB, 'add_task', { title: 'B’s task' });

      const listedByB = await call(clientB, 'list_tasks');
      const completedByB = await call(clientB, 'complete_task', { task_id: taskOfA });

      expect((listedByB.structuredContent as { tasks: { title: string }[] }).tasks.map((task) => task.title)).toEqual([
        'B’s task',
      ]);
      expect(completedByB).toMatchObject({
        isError: true,
        content: [{ type: 'text', text: `task ${taskOfA} not found` }],
      });
      expect(await tasksOf(a)).toEqual([expect.objectContaining({ id: taskOfA, completed: false })]);
    });

    it('ends the session on DELETE: the next request on it gets 404', async () => {
      const userId = newUserId();
      const { transport } = await connect(userId);
      const sessionId = String(transport.sessionId);

      await transport.terminateSession();
      const response = await post(LIST_TOOLS, {
        ...t.authHeaders(userId),
        'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
        'mcp-session-id': sessionId,
      });

      expect(response.status).toBe(404);
    });

    it('starts a session only with an initialize request, answering JSON with the session and request ids', async () => {
      const headers = t.authHeaders(newUserId());

      const withoutSession = await post(LIST_TOOLS, headers);
      const initialized = await post(INITIALIZE, headers);

      expect(withoutSession.status).toBe(400);
      expect(await withoutSession.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32000 } });
      expect(initialized.status).toBe(200);
      expect(initialized.headers.get('content-type')).toMatch(/^application\/json/);
      expect(initialized.headers.get('mcp-session-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(initialized.headers.get('x-request-id')).toBeTruthy();
      expect(await initialized.json()).toMatchObject({ id: 1, result: { serverInfo: { name: 'tasks' } } });
    });
  });

  describe('HTTP rules', () => {
    it('answers GET with 405 and Allow, as it opens no standalone event stream', async () => {
      const response = await fetch(url, { headers: { accept: 'text/event-stream', ...t.authHeaders(newUserId()) } });

      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST, DELETE');
      expect(await response.json()).toMatchObject({ code: 'method_not_allowed' });
    });

    it('answers 415 problem+json to a body that is not JSON', async () => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', accept: MCP_ACCEPT, ...t.authHeaders(newUserId()) },
        body: 'hello',
      });

      expect(response.status).toBe(415);
      expect(await response.json()).toMatchObject({ code: 'unsupported_media_type' });
    });

    it('is left out of the OpenAPI document', async () => {
      const response = await t.app.inject({ method: 'GET', url: '/docs-json' });

      expect(Object.keys(response.json().paths)).not.toContain('/mcp');
    });
  });
});

describe('/mcp per-user rate limit', () => {
  const LIMIT = 6;
  let t: TestApp;
  let url: URL;
  const clients: Client[] = [];

  beforeAll(async () => {
    ({ t, url } = await serveWithMcp({ MCP_RATE_LIMIT_PER_MINUTE: String(LIMIT) }));
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    await t.close();
  });

  const post = (userId: string, body: unknown) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: MCP_ACCEPT, ...t.authHeaders(userId) },
      body: JSON.stringify(body),
    });

  it('sends the MCP budget in RateLimit-Policy and RateLimit headers on answered requests', async () => {
    const response = await post(newUserId(), INITIALIZE);

    expect(response.status).toBe(200);
    expect(response.headers.get('ratelimit-policy')).toBe(`"mcp";q=${LIMIT};w=60`);
    expect(response.headers.get('ratelimit')).toMatch(new RegExp(`^"mcp";r=${LIMIT - 1};t=\\d+$`));
  });

  it('stops a burst of add_task calls from one token at the budget: 429, and nothing more is stored', async () => {
    const userId = newUserId();
    const { client } = await connectSdkClient(url, t.authHeaders(userId), clients);

    const outcomes = [];
    for (let i = 0; i < LIMIT * 2; i++) {
      outcomes.push(
        await client.callTool({ name: 'add_task', arguments: { title: `task ${i}` } }).then(
          () => 'stored',
          (error: unknown) => error,
        ),
      );
    }

    const refused = outcomes.filter((outcome) => outcome !== 'stored');
    expect(refused.length).toBeGreaterThan(LIMIT);
    expect(refused[0]).toBeInstanceOf(StreamableHTTPError);
    expect(refused[0]).toMatchObject({ code: 429 });
    const stored = await t.dataSource.getRepository(TaskEntity).countBy({ userId });
    expect(stored).toBe(outcomes.length - refused.length);
    expect(stored).toBeLessThan(LIMIT);
  });

  it('answers past the budget with 429 problem+json, Retry-After and RateLimit r=0', async () => {
    const userId = newUserId();
    for (let i = 0; i < LIMIT; i++) await post(userId, INITIALIZE);

    const response = await post(userId, INITIALIZE);

    expect(response.status).toBe(429);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const retryAfter = Number(response.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(response.headers.get('ratelimit')).toBe(`"mcp";r=0;t=${retryAfter}`);
    expect(await response.json()).toMatchObject({
      status: 429,
      code: 'rate_limited',
      detail: expect.stringMatching(new RegExp(`^Too many MCP requests: at most ${LIMIT} a minute`)),
    });
  });

  it('does not count requests refused with 401', async () => {
    const userId = newUserId();
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: MCP_ACCEPT },
      body: '{}',
    });

    const response = await post(userId, INITIALIZE);

    expect(response.headers.get('ratelimit')).toMatch(new RegExp(`^"mcp";r=${LIMIT - 1};`));
  });
});

describe('/mcp task quota and paging', () => {
  const MAX_TASKS = 3;
  let t: TestApp;
  let url: URL;
  const clients: Client[] = [];

  beforeAll(async () => {
    ({ t, url } = await serveWithMcp({ TASKS_MAX_PER_USER: String(MAX_TASKS) }));
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    await t.close();
  });

  const connect = async (userId: string) => (await connectSdkClient(url, t.authHeaders(userId), clients)).client;

  const addTask = (client: Client, title: string) =>
    client.callTool({ name: 'add_task', arguments: { title } }) as Promise<CallToolResult>;
  const countTasks = (userId: string) => t.dataSource.getRepository(TaskEntity).countBy({ userId });

  it('refuses add_task past TASKS_MAX_PER_USER with a tool error the model can explain', async () => {
    const userId = newUserId();
    const client = await connect(userId);
    for (let i = 0; i < MAX_TASKS; i++) expect((await addTask(client, `task ${i}`)).isError).toBeFalsy();

    const refused = await addTask(client, 'one too many');

    expect(refused).toMatchObject({
      isError: true,
      content: [{ type: 'text', text: expect.stringMatching(new RegExp(`limit of ${MAX_TASKS} tasks`)) }],
    });
    expect(await countTasks(userId)).toBe(MAX_TASKS);
  });

  it('holds the quota under concurrent add_task calls: never more than the cap stored', async () => {
    const userId = newUserId();
    const client = await connect(userId);

    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => addTask(client, `burst ${i}`)));

    expect(results.filter((result) => !result.isError)).toHaveLength(MAX_TASKS);
    expect(await countTasks(userId)).toBe(MAX_TASKS);
  });

  it('pages list_tasks with a next_cursor that the SDK client validates against the output schema', async () => {
    const userId = newUserId();
    await t.dataSource.query(
      `INSERT INTO tasks (user_id, title) SELECT $1, 'task ' || n FROM generate_series(1, 150) AS n`,
      [userId],
    );
    const client = await connect(userId);

    const first = (await client.callTool({ name: 'list_tasks', arguments: {} })) as CallToolResult;
    const { next_cursor } = first.structuredContent as { next_cursor: string };
    const second = (await client.callTool({
      name: 'list_tasks',
      arguments: { cursor: next_cursor },
    })) as CallToolResult;

    expect(first.structuredContent).toMatchObject({ has_more: true, tasks: expect.any(Array) });
    expect(second.structuredContent).toMatchObject({ has_more: false, next_cursor: null });
    expect((second.structuredContent as { tasks: unknown[] }).tasks).toHaveLength(50);
  });
});

import { createEchoServer } from './support/mcp/echo-server';
import { IN_MEMORY_ECHO, startChatHarness, type ChatHarness } from './support/chat-harness';
import { newUserId } from './support/test-app';

interface ListedTool {
  name: string;
  server: string;
  description: string;
}

describe('GET /api/{user_id}/tools', () => {
  let h: ChatHarness;

  beforeAll(async () => {
    h = await startChatHarness({
      servers: [
        IN_MEMORY_ECHO,
        { name: 'mirror', transport: { type: 'in-memory', createServer: createEchoServer }, allowedTools: ['echo'] },
        { name: 'down', transport: { type: 'stdio', command: '/nonexistent/mcp-server' } },
      ],
    });
  });
  afterAll(() => h.close());

  const list = (userId: string, headers: Record<string, string> = h.t.authHeaders(userId)) =>
    h.t.app.inject({ method: 'GET', url: `/api/${userId}/tools`, headers });

  it('lists the tools the model is offered, under the names it sees, with their servers and each server’s status', async () => {
    const userId = newUserId();
    h.sim.enqueue({ kind: 'text', text: 'ok' });
    await h.send({ message: 'which tools do you have?' }, userId);
    const offered: string[] = h.sim.requests[0].body.tools.map((tool: { name: string }) => tool.name);

    const response = await list(userId);

    expect(response.statusCode).toBe(200);
    const { tools, servers } = response.json() as { tools: ListedTool[]; servers: unknown[] };
    expect(tools.map((tool) => tool.name)).toEqual(offered);
    expect(tools).toEqual(
      expect.arrayContaining([
        { name: 'echo__echo', server: 'echo', description: 'Returns the text it was given.' },
        { name: 'mirror__echo', server: 'mirror', description: 'Returns the text it was given.' },
        { name: 'whoami', server: 'echo', description: expect.stringContaining('Who the server was told') },
      ]),
    );
    expect(servers).toEqual([
      { name: 'echo', status: 'connected', tools: tools.filter((tool) => tool.server === 'echo').length },
      { name: 'mirror', status: 'connected', tools: 1 },
      { name: 'down', status: 'failed', tools: 0, error: expect.stringMatching(/ENOENT/) },
    ]);
  });

  it('answers 401 with WWW-Authenticate without a bearer token', async () => {
    const response = await list(newUserId(), {});

    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('answers 403 when the path names another user than the token', async () => {
    const response = await list(newUserId(), h.t.authHeaders(newUserId()));

    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ status: 403, code: 'forbidden' });
  });

  it('is documented in the OpenAPI document behind bearer auth', async () => {
    const document = (await h.t.app.inject({ method: 'GET', url: '/docs-json' })).json();

    const operation = document.paths['/api/{user_id}/tools']?.get;
    expect(operation).toMatchObject({ tags: ['tools'], security: [{ bearer: [] }] });
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['200', '401', '403']));
  });
});

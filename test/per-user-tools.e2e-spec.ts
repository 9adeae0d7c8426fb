import type { IncomingHttpHeaders } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SERVICE_IDENTITY } from '../src/agent/mcp/per-user-mcp-client';
import { startChatHarness, type ChatHarness } from './support/chat-harness';
import { startStreamableHttpHost, type StreamableHttpHost } from './support/mcp/streamable-http-host';
import { newUserId } from './support/test-app';

jest.setTimeout(30_000);

const diaryOf = (userId: string): string => `diary-of-${userId}`;
const descriptionFor = (userId: string): string => `Reads the private diary of ${userId}.`;

/** A server that tells each caller (its `X-User`) about a tool of their own, described in their name. */
function createDiaryServer(headers: IncomingHttpHeaders): McpServer {
  const userId = String(headers['x-user']);
  const server = new McpServer({ name: 'diaries', version: '1.0.0' });
  server.registerTool(diaryOf(userId), { description: descriptionFor(userId) }, () => ({
    content: [{ type: 'text', text: `diary entries of ${userId}` }],
  }));
  return server;
}

describe('Tool lists of a per-user MCP server that refuses the service identity', () => {
  let host: StreamableHttpHost;
  let h: ChatHarness;

  beforeAll(async () => {
    host = await startStreamableHttpHost(createDiaryServer, 0, {
      accept: (headers) => headers['x-user'] !== SERVICE_IDENTITY,
    });
    h = await startChatHarness({
      servers: [{ name: 'diaries', transport: { type: 'http', url: host.url, headers: { 'X-User': '{{user_id}}' } } }],
    });
  });
  afterAll(async () => {
    await h?.close();
    await host?.close();
  });

  const listTools = (userId: string) =>
    h.t.app.inject({ method: 'GET', url: `/api/${userId}/tools`, headers: h.t.authHeaders(userId) });

  it("never shows one user's tools to another, in GET tools or in the model's context", async () => {
    const [alice, bob] = [newUserId(), newUserId()];
    h.sim.reset().enqueue({ kind: 'text', text: 'hello alice' });
    expect((await h.send({ message: 'hi' }, alice)).statusCode).toBe(200);
    const aliceOffered = JSON.stringify(h.sim.requests[0].body.tools);
    expect(aliceOffered).toContain(descriptionFor(alice));

    const bobList = await listTools(bob);
    h.sim.reset().enqueue({ kind: 'text', text: 'hello bob' });
    expect((await h.send({ message: 'hi' }, bob)).statusCode).toBe(200);

    expect(bobList.statusCode).toBe(200);
    expect(bobList.json().tools).toEqual([{ name: diaryOf(bob), server: 'diaries', description: descriptionFor(bob) }]);
    expect(bobList.body).not.toContain(alice);
    const bobOffered = JSON.stringify(h.sim.requests[0].body.tools);
    expect(bobOffered).toContain(descriptionFor(bob));
    expect(bobOffered).not.toContain(alice);
  });

  it("lists a user's own tools and status even while another user's connection is up", async () => {
    const [alice, bob] = [newUserId(), newUserId()];
    await listTools(alice);

    const response = await listTools(bob);

    expect(response.json()).toEqual({
      tools: [{ name: diaryOf(bob), server: 'diaries', description: descriptionFor(bob) }],
      servers: [{ name: 'diaries', status: 'connected', tools: 1 }],
    });
    expect((await listTools(alice)).json().tools).toEqual([
      { name: diaryOf(alice), server: 'diaries', description: descriptionFor(alice) },
    ]);
  });

  it("resolves a tool call against the calling user's own tools", async () => {
    const [alice, bob] = [newUserId(), newUserId()];
    await listTools(alice);
    h.sim
      .reset()
      .enqueue({ kind: 'tool_use', calls: [{ name: diaryOf(bob), input: {} }] }, { kind: 'text', text: 'done' });

    const response = await h.send({ message: 'read my diary' }, bob);

    expect(response.statusCode).toBe(200);
    expect(response.json().tool_calls).toEqual([
      expect.objectContaining({
        tool: diaryOf(bob),
        server: 'diaries',
        is_error: false,
        result: `diary entries of ${bob}`,
      }),
    ]);
  });
});

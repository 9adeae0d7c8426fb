import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import jwt from 'jsonwebtoken';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MCP_TOKEN_TYPE, deriveMcpTokenSecret } from '../src/auth/mcp-token-key';
import { startChatHarness, type ChatHarness } from './support/chat-harness';
import { createEchoServer } from './support/mcp/echo-server';
import { startStreamableHttpHost, type StreamableHttpHost } from './support/mcp/streamable-http-host';
import { newUserId, TEST_JWT_SECRET } from './support/test-app';

jest.setTimeout(30_000);

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'replay', version: '1' } },
};

describe('A {{user_token}} the service signed for an MCP server', () => {
  let dir: string;
  let host: StreamableHttpHost;
  let h: ChatHarness;
  let user: string;
  let captured: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcp-token-replay-'));
    host = await startStreamableHttpHost(createEchoServer);
    const file = join(dir, 'mcp.json');
    writeFileSync(
      file,
      JSON.stringify({
        mcpServers: {
          remote: { url: host.url, headers: { Authorization: 'Bearer {{user_token}}' }, timeout_ms: 5000 },
        },
      }),
    );
    h = await startChatHarness({ env: { MCP_CONFIG: file }, servers: 'builtin' });

    user = newUserId();
    h.sim.enqueue(
      { kind: 'tool_use', calls: [{ name: 'echo', input: { text: 'hello' }, id: 'toolu_1' }] },
      { kind: 'text', text: 'The server echoed hello.' },
    );
    const turn = await h.send({ message: 'Echo hello' }, user);
    expect(turn.statusCode).toBe(200);
    expect(turn.json().tool_calls).toMatchObject([{ tool: 'echo', server: 'remote', is_error: false }]);

    const tokens = host.requests
      .map((request) => String(request.headers.authorization ?? '').replace(/^Bearer /, ''))
      .filter((token) => (jwt.decode(token) as jwt.JwtPayload | null)?.sub === user);
    expect(tokens.length).toBeGreaterThan(0);
    captured = tokens[tokens.length - 1];
  });

  afterAll(async () => {
    await h?.close();
    await host.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is a valid token for that server: typ mcp-user+jwt, signed with the key derived for MCP servers', () => {
    const { header, payload } = jwt.verify(captured, deriveMcpTokenSecret(TEST_JWT_SECRET), {
      algorithms: ['HS256'],
      audience: 'remote',
      complete: true,
    });

    expect(header.typ).toBe(MCP_TOKEN_TYPE);
    expect(payload).toMatchObject({ sub: user, aud: 'remote' });
    expect(() => jwt.verify(captured, TEST_JWT_SECRET, { algorithms: ['HS256'] })).toThrow('invalid signature');
  });

  it('answers 401 problem+json with a Bearer challenge when the server replays it on /api', async () => {
    const reply = await h.t.app.inject({
      method: 'GET',
      url: `/api/${user}/conversations`,
      headers: { authorization: `Bearer ${captured}` },
    });

    expect(reply.statusCode).toBe(401);
    expect(reply.headers['www-authenticate']).toMatch(/^Bearer\b/);
    expect(reply.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(reply.json()).toMatchObject({ code: 'unauthorized' });
  });

  it('answers 401 when the server replays it on POST /mcp', async () => {
    const reply = await h.t.app.inject({
      method: 'POST',
      url: '/mcp',
      headers: {
        authorization: `Bearer ${captured}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      payload: INITIALIZE,
    });

    expect(reply.statusCode).toBe(401);
    expect(reply.headers['www-authenticate']).toMatch(/^Bearer\b/);
    expect(reply.json()).toMatchObject({ code: 'unauthorized' });
  });

  it('still lets the user in with a token signed by the web app', async () => {
    const reply = await h.t.app.inject({
      method: 'GET',
      url: `/api/${user}/conversations`,
      headers: h.t.authHeaders(user),
    });

    expect(reply.statusCode).toBe(200);
  });
});

import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { createHmac } from 'node:crypto';
import { MCP_TOKEN_TYPE, deriveMcpTokenSecret } from '../src/auth/mcp-token-key';
import { insertConversation } from './support/factories';
import { createTestApp, newUserId, TEST_JWT_SECRET, type TestApp } from './support/test-app';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
interface RouteCase {
  name: string;
  method: Method;
  path: (userId: string, conversationId: string) => string;
  body?: (conversationId: string) => Record<string, unknown>;
  /** Routes naming a conversation answer 404 for another user's one. */
  conversationScoped: boolean;
}

const ROUTES: RouteCase[] = [
  { name: 'list conversations', method: 'GET', path: (u) => `/api/${u}/conversations`, conversationScoped: false },
  { name: 'get conversation', method: 'GET', path: (u, c) => `/api/${u}/conversations/${c}`, conversationScoped: true },
  {
    name: 'rename conversation',
    method: 'PATCH',
    path: (u, c) => `/api/${u}/conversations/${c}`,
    body: () => ({ title: 'Renamed' }),
    conversationScoped: true,
  },
  {
    name: 'delete conversation',
    method: 'DELETE',
    path: (u, c) => `/api/${u}/conversations/${c}`,
    conversationScoped: true,
  },
  { name: 'history', method: 'GET', path: (u, c) => `/api/${u}/chat/${c}/history`, conversationScoped: true },
  {
    name: 'send a message',
    method: 'POST',
    path: (u) => `/api/${u}/chat`,
    body: (c) => ({ message: 'hello', conversation_id: c }),
    conversationScoped: true,
  },
];

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** HS256 over a payload written as JSON text, for numbers JSON.stringify cannot write. */
function signJsonText(payload: string): string {
  const input = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${Buffer.from(payload).toString('base64url')}`;
  return `${input}.${createHmac('sha256', TEST_JWT_SECRET).update(input).digest('base64url')}`;
}

/** Tokens every route must refuse with 401, built fresh per test so `exp`/`nbf` are relative to now. */
const BAD_TOKENS: Record<string, (sub: string) => string> = {
  'a malformed token': () => 'not.a.jwt',
  'an expired token': (sub) => jwt.sign({ sub, exp: Math.floor(Date.now() / 1000) - 3600 }, TEST_JWT_SECRET),
  'a token not yet valid': (sub) =>
    jwt.sign({ sub, nbf: Math.floor(Date.now() / 1000) + 3600 }, TEST_JWT_SECRET, { expiresIn: '2h' }),
  'a token signed with another secret': (sub) =>
    jwt.sign({ sub }, 'another-secret-of-sufficient-length-0123456789', { expiresIn: '5m' }),
  'an alg:none token': (sub) =>
    `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub, exp: Math.floor(Date.now() / 1000) + 300 })}.`,
  'a token without exp': (sub) => jwt.sign({ sub }, TEST_JWT_SECRET),
  'a {{user_token}} an MCP server was given': (sub) =>
    jwt.sign({ sub, aud: 'remote' }, deriveMcpTokenSecret(TEST_JWT_SECRET), {
      expiresIn: '5m',
      header: { alg: 'HS256', typ: MCP_TOKEN_TYPE },
    }),
  'a token with a crit header': (sub) =>
    jwt.sign({ sub }, TEST_JWT_SECRET, { expiresIn: '5m', header: { alg: 'HS256', crit: ['exp'] } as jwt.JwtHeader }),
  'a token whose exp is 1e400': (sub) => signJsonText(`{"sub":${JSON.stringify(sub)},"exp":1e400}`),
  'a token whose sub has a trailing space': (sub) => jwt.sign({ sub: `${sub} ` }, TEST_JWT_SECRET, { expiresIn: '5m' }),
};

describe('Access control on every /api route', () => {
  let t: TestApp;
  let owner: string;
  let conversationId: string;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  beforeEach(async () => {
    owner = newUserId();
    conversationId = (await insertConversation(t.dataSource, { userId: owner })).id;
  });

  const send = (route: RouteCase, userId: string, headers: Record<string, string>, conversation = conversationId) =>
    t.app.inject({
      method: route.method,
      url: route.path(userId, conversation),
      headers,
      payload: route.body?.(conversation),
    });

  describe.each(ROUTES)('$name', (route) => {
    it('answers 401 problem+json with a Bearer challenge when no token is sent', async () => {
      const response = await send(route, owner, {});
      expect(response.statusCode).toBe(401);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.headers['www-authenticate']).toMatch(/^Bearer realm=/);
      expect(response.json()).toMatchObject({ status: 401, code: 'unauthorized' });
    });

    it.each(Object.keys(BAD_TOKENS))('answers 401 invalid_token for %s', async (kind) => {
      const response = await send(route, owner, { authorization: `Bearer ${BAD_TOKENS[kind](owner)}` });
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toContain('error="invalid_token"');
      expect(response.json().code).toBe('unauthorized');
    });

    it('answers 403 when the token belongs to another user than the path', async () => {
      const response = await send(route, owner, t.authHeaders(newUserId()));
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ status: 403, code: 'forbidden' });
    });

    if (route.conversationScoped) {
      it('answers 404 for another user’s conversation exactly as for a missing one, and leaves it untouched', async () => {
        const intruder = newUserId();
        const foreign = await send(route, intruder, t.authHeaders(intruder));
        const missing = await send(route, intruder, t.authHeaders(intruder), randomUUID());
        expect(foreign.statusCode).toBe(404);
        const strip = (body: Record<string, unknown>) => ({
          ...body,
          request_id: undefined,
          instance: undefined,
          detail: undefined,
        });
        expect(strip(foreign.json())).toEqual(strip(missing.json()));
        expect(foreign.json().code).toBe('conversation_not_found');

        const stillThere = await t.app.inject({
          method: 'GET',
          url: `/api/${owner}/conversations/${conversationId}`,
          headers: t.authHeaders(owner),
        });
        expect(stillThere.json()).toMatchObject({ id: conversationId, title: 'A conversation', message_count: 0 });
        const [{ count }] = await t.dataSource.query(
          `SELECT count(*)::int AS count FROM messages WHERE conversation_id = $1`,
          [conversationId],
        );
        expect(count).toBe(0);
      });

      it('answers 400 naming conversation_id when it is not a UUID', async () => {
        const response = await send(route, owner, t.authHeaders(owner), 'not-a-uuid');
        expect(response.statusCode).toBe(400);
        expect(response.json().errors).toEqual(
          expect.arrayContaining([expect.objectContaining({ field: 'conversation_id' })]),
        );
      });
    }
  });
});

import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import {
  fuzzCase,
  junkSegment,
  validCase,
  type ArbitraryWorld,
  type CaseOptions,
  type ConvRef,
  type FuzzCase,
  type RouteKind,
  type UserRef,
} from './support/fuzz/arbitraries';
import { FuzzRunner, type FuzzWorld } from './support/fuzz/fuzz-runner';
import { startChatHarness, type ChatHarness } from './support/chat-harness';
import { insertConversation, insertMessages } from './support/factories';
import { newUserId, TEST_JWT_SECRET } from './support/test-app';

/**
 * Property-based fuzzing of every route (SPEC §3–§5): whatever arrives (random bodies, headers, ids,
 * huge and unicode strings, wrong types and content types), the answer is 2xx only for a valid request
 * and otherwise a 4xx problem+json, never a 5xx, never a stack or SQL text, never another user's data.
 * FUZZ_SEED and FUZZ_SCALE (a multiplier of numRuns) widen a local run; CI uses the fixed defaults.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_126);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
const SECRET = 'A-SECRET';
/** Per property; the whole file stays within a minute on two cores. */
const PROPERTY_TIMEOUT_MS = 60_000 * Math.max(1, SCALE);
const API_ROUTES: RouteKind[] = ['chat', 'history', 'list', 'get', 'patch', 'delete'];

describe('Fuzzing every route with bad input (fast-check)', () => {
  let h: ChatHarness;
  let runner: FuzzRunner;
  let world: FuzzWorld;
  let snapshotOfA: () => Promise<unknown>;
  let aBefore: unknown;

  const as = (userId: string) => ({ authorization: `Bearer ${h.t.tokenFor(userId)}` });
  const nextCursor = async (userId: string, url: string): Promise<string> => {
    const response = await h.t.app.inject({ method: 'GET', url, headers: as(userId) });
    const cursor = (response.json() as { next_cursor?: unknown }).next_cursor;
    if (typeof cursor !== 'string') throw new Error(`no next_cursor from ${url}: ${response.body}`);
    return cursor;
  };

  beforeAll(async () => {
    // A high rate limit: the fuzz sends hundreds of chat requests a minute as one user.
    h = await startChatHarness({ env: { CHAT_RATE_LIMIT_PER_MINUTE: '100000' } });
    const { dataSource } = h.t;
    const userA = newUserId();
    const userB = newUserId();

    // User A: the data nobody else may see or change.
    const a1 = await insertConversation(dataSource, { userId: userA, title: `${SECRET}-title-${randomUUID()}` });
    await insertMessages(dataSource, a1, 60);
    await dataSource.query(`UPDATE messages SET content = content || $2 WHERE user_id = $1`, [
      userA,
      ` ${SECRET}-${randomUUID()}`,
    ]);
    const turn = await h.send({ message: `${SECRET}-message-${randomUUID()}` }, userA);
    if (turn.statusCode !== 200) throw new Error(`seeding A's turn failed: ${turn.body}`);
    const a2 = (turn.json() as { conversation_id: string }).conversation_id;
    const a3 = await insertConversation(dataSource, { userId: userA, title: `${SECRET}-empty-${randomUUID()}` });

    // User B: the fuzzing user, with conversations to act on and real cursors.
    const b1 = await insertConversation(dataSource, { userId: userB, title: 'B history' });
    await insertMessages(dataSource, b1, 60);
    const b2 = await insertConversation(dataSource, { userId: userB, title: 'B two' });
    const b3 = await insertConversation(dataSource, { userId: userB, title: 'B three' });

    const tools = await h.t.app.inject({ method: 'GET', url: `/api/${userB}/tools`, headers: as(userB) });
    const base: ArbitraryWorld = {
      userA,
      userB,
      aConversations: 3,
      bConversations: 3,
      bodyLimit: h.t.config.bodyLimitBytes,
      toolsRoute: tools.statusCode !== 404,
    };
    world = {
      ...base,
      aConversationIds: [a1.id, a2, a3.id],
      bConversationIds: [b1.id, b2.id, b3.id],
      cursors: {
        'A-list': await nextCursor(userA, `/api/${userA}/conversations?limit=1`),
        'A-history': await nextCursor(userA, `/api/${userA}/chat/${a1.id}/history?limit=5`),
        'B-list': await nextCursor(userB, `/api/${userB}/conversations?limit=1`),
        'B-history': await nextCursor(userB, `/api/${userB}/chat/${b1.id}/history?limit=5`),
      },
    };
    const aMessageIds = (
      (await dataSource.query(`SELECT id FROM messages WHERE user_id = $1`, [userA])) as { id: string }[]
    ).map((row) => row.id);
    runner = new FuzzRunner(h.t, world, TEST_JWT_SECRET, {
      secrets: [SECRET],
      ids: [userA, ...world.aConversationIds, ...aMessageIds],
      upstreamUrl: h.sim.url,
    });
    snapshotOfA = async () => ({
      conversations: await dataSource.query(
        `SELECT id, title, message_count, lease_owner, created_at, updated_at FROM conversations
         WHERE user_id = $1 ORDER BY id`,
        [userA],
      ),
      messages: await dataSource.query(
        `SELECT id, conversation_id, seq, role, content, status, error_code, tool_calls FROM messages WHERE user_id = $1
         ORDER BY conversation_id, seq`,
        [userA],
      ),
    });
    aBefore = await snapshotOfA();
  }, 30_000);

  afterAll(async () => {
    if (runner) {
      const { inputs, verifications, knownBugHits, verdicts, statuses } = runner.stats;
      const total = Object.values(inputs).reduce((sum, n) => sum + n, 0);
      const database = process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite';
      console.log(
        `fuzz: ${total} fuzzed inputs run (seed ${SEED}, scale ${SCALE}, ${database}, ` +
          `tools route ${world.toolsRoute ? 'fuzzed' : 'absent'}); ` +
          `per property ${JSON.stringify(inputs)}; oracle verdicts ${JSON.stringify(verdicts)}; ` +
          `statuses ${JSON.stringify(statuses)}; known-bug hits ${JSON.stringify(knownBugHits)}; ` +
          `${verifications} verification requests`,
      );
      if (process.env.FUZZ_DEBUG) console.debug(runner.stats.reasons);
    }
    await h?.close();
  });

  beforeEach(() => h.sim.reset());

  /** One fc.assert over generated cases; the seed is fixed, and fast-check prints it (and the path) on failure. */
  const check = async (property: string, arbitrary: fc.Arbitrary<FuzzCase>, numRuns: number, seedOffset: number) => {
    await fc.assert(
      fc.asyncProperty(arbitrary, async (fuzz) => {
        await runner.run(property, fuzz);
      }),
      { numRuns: runs(numRuns), seed: SEED + seedOffset },
    );
  };
  const cases = (options: CaseOptions) => fuzzCase(world, options);

  it(
    'answers anything sent to any route (or none) with 2xx only when valid, else a 4xx problem+json',
    async () => {
      const all = { method: true, path: true, query: true, auth: true, contentType: true, body: true, headers: true };
      await check('any-request', cases({ fuzz: all, unknownPaths: 0.15 }), 1000, 1);
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'refuses malformed, mistyped, oversized and unicode-laden bodies of POST chat and PATCH conversation with a 4xx',
    async () => {
      await check('bodies', cases({ fuzz: { body: true }, routes: ['chat', 'patch'] }), 500, 2);
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'refuses random user and conversation ids in paths, even with a valid token for that user id',
    async () => {
      const options: CaseOptions = { fuzz: { path: true, method: true }, tokenForPathUser: true, unknownPaths: 0.1 };
      await check('paths', cases(options), 700, 3);
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'refuses random query strings: repeated keys, odd numbers, undeclared keys and forged cursors',
    async () => {
      await check(
        'queries',
        cases({ fuzz: { query: true }, routes: ['list', 'list', 'history', 'history', 'get', 'live'] }),
        700,
        4,
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'refuses random Authorization, Content-Type, x-request-id and Accept headers and methods',
    async () => {
      const options: CaseOptions = { fuzz: { auth: true, contentType: true, headers: true, method: true } };
      await check('headers', cases(options), 700, 5);
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    "never shows or changes user A's data when user B sends A's ids, cursors or look-alike user ids",
    async () => {
      const confusables = [
        world.userA.toUpperCase(),
        ` ${world.userA}`,
        `${world.userA} `,
        `${world.userA}\u200b`,
        `${world.userA}/`,
        `${world.userA}%00`,
        world.userA.replace('user-', 'user\u2010'),
        world.userA.replace('e', '\u0435'), // Cyrillic e
        world.userA.slice(0, -1),
        `${world.userA}\t`,
      ];
      const aConversation = fc.nat(2).map((index): ConvRef => ({ kind: 'A', index }));
      const base = (routes: RouteKind[]) =>
        cases({ fuzz: { query: true, body: true, method: true, contentType: true }, routes });
      const arbitrary = fc.oneof(
        base(API_ROUTES).map((c) => withPath(c, { user: { kind: 'A' } })),
        fc
          .tuple(base(['history', 'get', 'patch', 'delete']), aConversation)
          .map(([c, conversation]) => withPath(c, { conversation })),
        fc.tuple(base(['chat']), aConversation).map(([c, conversation]): FuzzCase => ({
          ...c,
          body: { kind: 'json', value: { message: 'hello' }, conversation },
          contentType: 'application/json',
        })),
        fc.tuple(base(['list', 'history']), fc.boolean()).map(([c, onAsConversation]): FuzzCase => {
          const isList = c.path.kind === 'route' && c.path.route === 'list';
          const next: FuzzCase = {
            ...c,
            query: [[isList ? 'cursor' : 'before', { kind: 'cursor', ref: isList ? 'A-list' : 'A-history' }]],
          };
          return onAsConversation && !isList ? withPath(next, { conversation: { kind: 'A', index: 0 } }) : next;
        }),
        fc.tuple(base(API_ROUTES), fc.constantFrom(...confusables)).map(([c, sub]): FuzzCase => ({
          ...withPath(c, { user: { kind: 'segment', segment: encodeURIComponent(sub) } }),
          auth: { kind: 'token', subject: { sub }, shape: 'valid', scheme: 'Bearer', suffix: '' },
        })),
        // Forged cursors that name A where a query parameter might be read from them.
        fc
          .tuple(
            base(['list', 'history']),
            fc.constantFrom('userId', 'user_id', 'conversationId', 'id'),
            fc.constantFrom('2999-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z'),
          )
          .map(([c, key, updatedAt]): FuzzCase => {
            const list = c.path.kind === 'route' && c.path.route === 'list';
            const position: Record<string, unknown> = list
              ? { updatedAt, id: 'ffffffff-ffff-ffff-ffff-ffffffffffff' }
              : { seq: 2_000_000_000 };
            position[key] = key === 'userId' || key === 'user_id' ? world.userA : world.aConversationIds[0];
            return { ...c, query: [[list ? 'cursor' : 'before', { kind: 'position', scope: 'auto', position }]] };
          }),
      );
      await check('isolation', arbitrary, 700, 6);
      expect(await snapshotOfA()).toEqual(aBefore);
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'answers valid requests with 2xx and keeps what was sent, so the fuzz does not pass by refusing everything',
    async () => {
      let turns = 0;
      await fc.assert(
        fc.asyncProperty(validCase(world), async (valid) => {
          const sent = await runner.run('valid', valid);
          expect(sent.judgement.verdict).toBe('valid');
          expect(sent.observed.status).toBeLessThan(300);
          if (sent.judgement.route !== 'chat') return;
          turns += 1;
          const { message } = JSON.parse(sent.req.payload as string) as { message: string };
          const turn = JSON.parse(sent.observed.body) as {
            conversation_id: string;
            user_message_id: string;
            response: string;
          };
          expect(turn.response).toBe(`Echo: ${message}`);
          const history = await runner.verify(
            'GET',
            `/api/${world.userB}/chat/${turn.conversation_id}/history?limit=2`,
          );
          const stored = (JSON.parse(history.body) as { messages: { id: string; content: string }[] }).messages;
          expect(stored.map((m) => m.content)).toEqual([message, turn.response]);
          expect(stored[0].id).toBe(turn.user_message_id);
        }),
        { numRuns: runs(300), seed: SEED + 7 },
      );
      expect(turns).toBeGreaterThan(10);
    },
    PROPERTY_TIMEOUT_MS,
  );

  it("leaves user A's conversations and messages exactly as they were after every property", async () => {
    expect(await snapshotOfA()).toEqual(aBefore);
  });

  it('generates path segments that exercise the router (sanity check of the arbitraries)', () => {
    const sample = fc.sample(junkSegment, { numRuns: 300, seed: SEED });
    expect(sample.some((segment) => segment.length > 255)).toBe(true);
    expect(sample.some((segment) => segment.includes('%'))).toBe(true);
  });

  /**
   * Minimal reproductions of what the fuzz found. Each stays red until src/ is fixed; the properties
   * above count these inputs as known-bug hits instead of failing on them again.
   */
  describe('bugs found by the fuzz', () => {
    const expectClientProblem = (response: {
      statusCode: number;
      headers: Record<string, unknown>;
      json(): unknown;
    }) => {
      expect(response.statusCode).toBeGreaterThanOrEqual(400);
      expect(response.statusCode).toBeLessThan(500);
      expect(String(response.headers['content-type'])).toContain('application/problem+json');
      expect(response.json()).toMatchObject({
        status: response.statusCode,
        request_id: response.headers['x-request-id'],
      });
    };
    const post = (userId: string, payload: string) =>
      h.t.app.inject({
        method: 'POST',
        url: `/api/${userId}/chat`,
        headers: { ...as(userId), 'content-type': 'application/json' },
        payload,
      });

    it.each([
      ['U+0000', '{"message":"a\\u0000b"}'],
      ['a lone surrogate escape', '{"message":"a\\ud800b"}'],
    ])('refuses a chat message containing %s with 400 naming message, storing nothing', async (_what, payload) => {
      const userId = newUserId();
      const response = await post(userId, payload);
      expectClientProblem(response);
      expect(response.json()).toMatchObject({ code: 'validation_failed', errors: [{ field: 'message' }] });
      const [{ count }] = await h.t.dataSource.query('SELECT count(*)::int AS count FROM messages WHERE user_id = $1', [
        userId,
      ]);
      expect(count).toBe(0);
    });

    it('refuses a conversation title containing U+0000 with 400 naming title', async () => {
      const userId = newUserId();
      const { id } = await insertConversation(h.t.dataSource, { userId });
      const response = await h.t.app.inject({
        method: 'PATCH',
        url: `/api/${userId}/conversations/${id}`,
        headers: { ...as(userId), 'content-type': 'application/json' },
        payload: '{"title":"a\\u0000b"}',
      });
      expectClientProblem(response);
      expect(response.json()).toMatchObject({ code: 'validation_failed', errors: [{ field: 'title' }] });
    });

    it('refuses a token whose sub contains U+0000 with 401', async () => {
      const userId = 'a\u0000b';
      const response = await h.t.app.inject({ method: 'GET', url: '/api/a%00b/conversations', headers: as(userId) });
      expectClientProblem(response);
      expect(response.statusCode).toBe(401);
    });

    it('answers 400, not 500, to a 4 KB body of deeply nested arrays', async () => {
      const userId = newUserId();
      const { id } = await insertConversation(h.t.dataSource, { userId });
      const response = await h.t.app.inject({
        method: 'PATCH',
        url: `/api/${userId}/conversations/${id}`,
        headers: { ...as(userId), 'content-type': 'application/json' },
        payload: `{"title":${'['.repeat(2000)}${']'.repeat(2000)}}`,
      });
      expectClientProblem(response);
    });

    it.each(['1', '2020-02-30T00:00:00Z'])(
      'answers 400 invalid_cursor to a conversations cursor whose updatedAt %s parses in JavaScript, not PostgreSQL',
      async (updatedAt) => {
        const userId = newUserId();
        const position = { scope: 'conversations', updatedAt, id: randomUUID() };
        const cursor = Buffer.from(JSON.stringify(position)).toString('base64url');
        const response = await h.t.app.inject({
          method: 'GET',
          url: `/api/${userId}/conversations?cursor=${cursor}`,
          headers: as(userId),
        });
        expect(response.statusCode).toBe(400);
        expect(response.json()).toMatchObject({ code: 'invalid_cursor' });
      },
    );

    it('does not answer 500 to a history cursor whose seq is beyond PostgreSQL integer', async () => {
      const userId = newUserId();
      const { id } = await insertConversation(h.t.dataSource, { userId });
      const cursor = Buffer.from(JSON.stringify({ scope: `history:${id}`, seq: 2 ** 31 })).toString('base64url');
      const response = await h.t.app.inject({
        method: 'GET',
        url: `/api/${userId}/chat/${id}/history?before=${cursor}`,
        headers: as(userId),
      });
      expect(response.statusCode).toBeLessThan(500);
    });

    it("never lists another user's conversations for a forged cursor that carries a userId", async () => {
      const owner = newUserId();
      const intruder = newUserId();
      const { id } = await insertConversation(h.t.dataSource, { userId: owner, title: 'private' });
      const forged = {
        scope: 'conversations',
        updatedAt: '2999-01-01T00:00:00.000Z',
        id: 'ffffffff-ffff-ffff-ffff-ffffffffffff',
        userId: owner,
      };
      const response = await h.t.app.inject({
        method: 'GET',
        url: `/api/${intruder}/conversations?cursor=${Buffer.from(JSON.stringify(forged)).toString('base64url')}`,
        headers: as(intruder),
      });
      expect(response.body).not.toContain(id);
      expect(response.body).not.toContain('private');
      expect(response.statusCode).toBe(400);
    });

    it('answers 400, not 500, to a conversations cursor with a field TypeORM cannot take as a parameter name', async () => {
      const userId = newUserId();
      const forged = { scope: 'conversations', updatedAt: '2020-01-01T00:00:00.000Z', id: randomUUID(), '': [] };
      const response = await h.t.app.inject({
        method: 'GET',
        url: `/api/${userId}/conversations?cursor=${Buffer.from(JSON.stringify(forged)).toString('base64url')}`,
        headers: as(userId),
      });
      expect(response.statusCode).toBe(400);
    });

    it('answers a malformed percent-encoding in the path with a problem+json carrying the request id', async () => {
      const userId = newUserId();
      const response = await h.t.app.inject({
        method: 'GET',
        url: `/api/${userId}/conversations/%E0%A4%A`,
        headers: as(userId),
      });
      expectClientProblem(response);
    });

    it('serves a user whose id is 101..255 characters long (the token and DTO allow 255)', async () => {
      const userId = `user-${'x'.repeat(150)}`;
      const response = await h.t.app.inject({
        method: 'GET',
        url: `/api/${userId}/conversations`,
        headers: as(userId),
      });
      expect(response.statusCode).toBe(200);
    });

    it('answers a path id over the router limit with a problem+json, not Fastify’s own JSON', async () => {
      const userId = newUserId();
      const response = await h.t.app.inject({
        method: 'GET',
        url: `/api/${userId}/conversations/${'x'.repeat(300)}`,
        headers: as(userId),
      });
      expectClientProblem(response);
    });

    it('refuses a query parameter the route does not declare (SPEC §4), on every route', async () => {
      const userId = newUserId();
      const { id } = await insertConversation(h.t.dataSource, { userId });
      for (const url of [`/api/${userId}/conversations/${id}?x=1`, `/api/${userId}/conversations?__proto__=1`]) {
        const response = await h.t.app.inject({ method: 'GET', url, headers: as(userId) });
        expect({ url, status: response.statusCode }).toEqual({ url, status: 400 });
      }
    });

    it('refuses an undeclared body field named like an Object.prototype member (toString, constructor…)', async () => {
      const response = await post(newUserId(), '{"message":"hi","toString":{}}');
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'validation_failed' });
    });
  });
});

function withPath(c: FuzzCase, change: { user?: UserRef; conversation?: ConvRef }): FuzzCase {
  if (c.path.kind !== 'route') return c;
  return { ...c, path: { ...c.path, ...change } };
}

import { randomUUID } from 'node:crypto';
import { ConversationEntity } from '../src/chat/entities/conversation.entity';
import { startChatHarness, type ChatHarness } from './support/chat-harness';
import { insertConversation, insertMessages } from './support/factories';
import { createTestApp, newUserId, type TestApp } from './support/test-app';

describe('Conversations API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const get = (userId: string, query = '') =>
    t.app.inject({ method: 'GET', url: `/api/${userId}/conversations${query}`, headers: t.authHeaders(userId) });

  it('lists an empty page for a new user', async () => {
    const userId = newUserId();
    const response = await get(userId);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ data: [], has_more: false, next_cursor: null });
  });

  it('lists only the caller’s conversations, most recently active first, in disjoint complete pages', async () => {
    const userId = newUserId();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await insertConversation(t.dataSource, { userId, title: `c${i}` })).id);
    await insertConversation(t.dataSource, { userId: newUserId() });
    const touched = await t.dataSource.getRepository(ConversationEntity).findOneByOrFail({ id: ids[2] });
    await insertMessages(t.dataSource, touched, 2);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const response = await get(userId, `?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(response.statusCode).toBe(200);
      const page = response.json();
      expect(page.data.length).toBeLessThanOrEqual(3);
      seen.push(...page.data.map((c: { id: string }) => c.id));
      cursor = page.next_cursor;
      expect(page.has_more).toBe(cursor !== null);
    } while (cursor);

    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
    expect(seen[0]).toBe(ids[2]);
    expect(seen.slice(1)).toEqual(ids.filter((id) => id !== ids[2]).reverse());
  });

  it('returns a conversation with its message count and ISO timestamps', async () => {
    const userId = newUserId();
    const conversation = await insertConversation(t.dataSource, { userId, title: 'Groceries' });
    await insertMessages(t.dataSource, conversation, 4);
    const response = await t.app.inject({
      method: 'GET',
      url: `/api/${userId}/conversations/${conversation.id}`,
      headers: t.authHeaders(userId),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      id: conversation.id,
      title: 'Groceries',
      message_count: 4,
      active_turn: null,
      pending_approvals: [],
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      updated_at: expect.stringMatching(/Z$/),
    });
  });

  it('renames a conversation, trimming the title', async () => {
    const userId = newUserId();
    const conversation = await insertConversation(t.dataSource, { userId });
    const response = await t.app.inject({
      method: 'PATCH',
      url: `/api/${userId}/conversations/${conversation.id}`,
      headers: t.authHeaders(userId),
      payload: { title: '  Trip to Lisbon  ' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().title).toBe('Trip to Lisbon');
    const [stored] = await t.dataSource.query(`SELECT title FROM conversations WHERE id = $1`, [conversation.id]);
    expect(stored.title).toBe('Trip to Lisbon');
  });

  it.each([
    ['a blank title', { title: '   ' }, 'title'],
    ['a title over 200 characters', { title: 'x'.repeat(201) }, 'title'],
    ['a non-string title', { title: 42 }, 'title'],
    ['an undeclared field', { title: 'ok', pinned: true }, 'pinned'],
  ])('refuses to rename with %s (400, naming the field)', async (_case, payload, field) => {
    const userId = newUserId();
    const conversation = await insertConversation(t.dataSource, { userId, title: 'Kept' });
    const response = await t.app.inject({
      method: 'PATCH',
      url: `/api/${userId}/conversations/${conversation.id}`,
      headers: t.authHeaders(userId),
      payload,
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ code: 'validation_failed' });
    expect(response.json().errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    expect(
      (await t.dataSource.query('SELECT title FROM conversations WHERE id = $1', [conversation.id]))[0].title,
    ).toBe('Kept');
  });

  it('deletes a conversation with its messages (204), then answers 404 for it', async () => {
    const userId = newUserId();
    const conversation = await insertConversation(t.dataSource, { userId });
    await insertMessages(t.dataSource, conversation, 3);
    const url = `/api/${userId}/conversations/${conversation.id}`;
    const response = await t.app.inject({ method: 'DELETE', url, headers: t.authHeaders(userId) });
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    const [{ count }] = await t.dataSource.query(
      'SELECT count(*)::int AS count FROM messages WHERE conversation_id = $1',
      [conversation.id],
    );
    expect(count).toBe(0);
    expect((await t.app.inject({ method: 'GET', url, headers: t.authHeaders(userId) })).statusCode).toBe(404);
  });

  it('refuses to delete a conversation whose turn is running (409 with Retry-After), keeping it', async () => {
    const userId = newUserId();
    const conversation = await insertConversation(t.dataSource, {
      userId,
      leaseOwner: 'replica-a',
      leaseExpiresAt: new Date(Date.now() + 60_000),
    });
    const url = `/api/${userId}/conversations/${conversation.id}`;
    const response = await t.app.inject({ method: 'DELETE', url, headers: t.authHeaders(userId) });
    expect(response.statusCode).toBe(409);
    expect(response.headers['retry-after']).toBeDefined();
    expect(response.json().code).toBe('conversation_busy');
    expect((await t.app.inject({ method: 'GET', url, headers: t.authHeaders(userId) })).statusCode).toBe(200);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=201', 'limit'],
    ['limit=abc', 'limit'],
    ['cursor=not-a-cursor', 'cursor'],
    ['sort=asc', 'sort'],
  ])('answers 400 for the query %s, naming the parameter', async (query, field) => {
    const response = await get(newUserId(), `?${query}`);
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  });

  it.each([
    ['year 0000, which PostgreSQL cannot store', '0000-01-01T00:00:00.000000Z'],
    ['a year before the common era', '-0001-01-01T00:00:00.000000Z'],
    ['a year past 9999', '+10000-01-01T00:00:00.000000Z'],
  ])('answers 400 invalid_cursor, not 500, to a forged cursor dated %s', async (_case, updatedAt) => {
    const forged = Buffer.from(JSON.stringify({ scope: 'conversations', updatedAt, id: randomUUID() })).toString(
      'base64url',
    );

    const response = await get(newUserId(), `?cursor=${forged}`);

    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'invalid_cursor', errors: [{ field: 'cursor' }] });
  });

  it('answers 404 problem+json for a PATCH of a conversation that does not exist', async () => {
    const userId = newUserId();
    const response = await t.app.inject({
      method: 'PATCH',
      url: `/api/${userId}/conversations/${randomUUID()}`,
      headers: t.authHeaders(userId),
      payload: { title: 'x' },
    });
    expect(response.statusCode).toBe(404);
    expect(response.json().code).toBe('conversation_not_found');
  });
});

describe('Conversations per user (CHAT_MAX_CONVERSATIONS_PER_USER)', () => {
  const MAX = 3;
  let h: ChatHarness;
  beforeAll(async () => {
    h = await startChatHarness({ env: { CHAT_MAX_CONVERSATIONS_PER_USER: String(MAX) } });
  });
  afterAll(() => h.close());
  beforeEach(() => h.sim.reset());

  const countOf = async (table: 'conversations' | 'messages', userId: string) =>
    (await h.t.dataSource.query(`SELECT count(*)::int AS count FROM ${table} WHERE user_id = $1`, [userId]))[0]
      .count as number;

  it('refuses a new conversation past the cap with 409 conversation_limit_reached, storing nothing', async () => {
    const userId = newUserId();
    const existing = [];
    for (let i = 0; i < MAX; i++) existing.push(await insertConversation(h.t.dataSource, { userId }));

    const refused = await h.send({ message: 'One more, please' }, userId);

    expect(refused.statusCode).toBe(409);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json()).toMatchObject({
      status: 409,
      code: 'conversation_limit_reached',
      detail: expect.stringContaining(`${MAX} conversations`),
    });
    expect(h.sim.requests).toHaveLength(0);
    expect(await countOf('conversations', userId)).toBe(MAX);
    expect(await countOf('messages', userId)).toBe(0);
  });

  it('still answers in an existing conversation at the cap, and starts one again once one is deleted', async () => {
    const userId = newUserId();
    const [first] = [await insertConversation(h.t.dataSource, { userId })];
    for (let i = 1; i < MAX; i++) await insertConversation(h.t.dataSource, { userId });
    h.sim.enqueue({ kind: 'text', text: 'Still here.' }, { kind: 'text', text: 'New one.' });

    const continued = await h.send({ message: 'Go on', conversation_id: first.id }, userId);
    await h.t.app.inject({
      method: 'DELETE',
      url: `/api/${userId}/conversations/${first.id}`,
      headers: h.t.authHeaders(userId),
    });
    const started = await h.send({ message: 'Fresh start' }, userId);

    expect([continued.statusCode, started.statusCode]).toEqual([200, 200]);
    expect(await countOf('conversations', userId)).toBe(MAX);
  });

  it('titles a new conversation from its message cut on a grapheme boundary, never inside an emoji', async () => {
    const userId = newUserId();
    const family = '👨‍👩‍👧‍👦';
    h.sim.enqueue({ kind: 'text', text: 'Hello.' });

    const response = await h.send({ message: `${'x'.repeat(75)}${family.repeat(3)}` }, userId);

    const { conversation_id } = response.json();
    const [{ title }] = await h.t.dataSource.query('SELECT title FROM conversations WHERE id = $1', [conversation_id]);
    expect(title).toBe(`${'x'.repeat(75)}…`);
  });

  it('holds the cap when new conversations are started concurrently', async () => {
    const userId = newUserId();
    await insertConversation(h.t.dataSource, { userId });
    h.sim.respondWith(() => ({ kind: 'text', text: 'Hello.' }));

    const responses = await Promise.all(Array.from({ length: 8 }, () => h.send({ message: 'Hi' }, userId)));

    const statuses = responses.map((response) => response.statusCode).sort();
    expect(statuses).toEqual([200, 200, 409, 409, 409, 409, 409, 409]);
    expect(await countOf('conversations', userId)).toBe(MAX);
  });
});

import { insertConversation, insertMessages } from './support/factories';
import { createTestApp, newUserId, type TestApp } from './support/test-app';

interface HistoryMessage {
  id: string;
  role: string;
  content: string;
}

describe('GET /api/{user_id}/chat/{conversation_id}/history', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const history = (userId: string, conversationId: string, query = '') =>
    t.app.inject({
      method: 'GET',
      url: `/api/${userId}/chat/${conversationId}/history${query}`,
      headers: t.authHeaders(userId),
    });

  it('returns an empty page for a conversation without messages', async () => {
    const userId = newUserId();
    const conversation = await insertConversation(t.dataSource, { userId });
    const response = await history(userId, conversation.id);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      conversation_id: conversation.id,
      messages: [],
      has_more: false,
      next_cursor: null,
    });
  });

  it('pages newest first, oldest→newest within a page, disjoint and complete', async () => {
    const userId = newUserId();
    const conversation = await insertConversation(t.dataSource, { userId });
    await insertMessages(t.dataSource, conversation, 23);

    const pages: HistoryMessage[][] = [];
    let cursor: string | null = null;
    do {
      const response = await history(userId, conversation.id, `?limit=10${cursor ? `&before=${cursor}` : ''}`);
      expect(response.statusCode).toBe(200);
      const body = response.json();
      pages.push(body.messages);
      cursor = body.next_cursor;
      expect(body.has_more).toBe(cursor !== null);
    } while (cursor);

    expect(pages.map((page) => page.length)).toEqual([10, 10, 3]);
    expect(pages[0][0].content).toBe('message 14');
    expect(pages[0][9].content).toBe('message 23');
    const all = pages.reverse().flat();
    expect(all.map((m) => m.content)).toEqual(Array.from({ length: 23 }, (_, i) => `message ${i + 1}`));
    expect(new Set(all.map((m) => m.id)).size).toBe(23);
    expect(all.map((m) => m.role).slice(0, 2)).toEqual(['user', 'assistant']);
  });

  it('uses a default page of 50 and shows each message’s fields', async () => {
    const userId = newUserId();
    const conversation = await insertConversation(t.dataSource, { userId });
    await insertMessages(t.dataSource, conversation, 60);
    const body = (await history(userId, conversation.id)).json();
    expect(body.messages).toHaveLength(50);
    expect(body.has_more).toBe(true);
    expect(body.messages[0]).toEqual({
      id: expect.any(String),
      role: 'user',
      content: 'message 11',
      tool_calls: [],
      status: 'completed',
      error_code: null,
      created_at: expect.stringMatching(/Z$/),
    });
  });

  it('rejects a cursor taken from another conversation (400 invalid_cursor)', async () => {
    const userId = newUserId();
    const first = await insertConversation(t.dataSource, { userId });
    const second = await insertConversation(t.dataSource, { userId });
    await insertMessages(t.dataSource, first, 5);
    await insertMessages(t.dataSource, second, 5);
    const cursor = (await history(userId, first.id, '?limit=2')).json().next_cursor;
    const response = await history(userId, second.id, `?before=${cursor}`);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'invalid_cursor', errors: [{ field: 'before' }] });
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=201', 'limit'],
    ['limit=1.5', 'limit'],
    ['before=%%%', 'before'],
    ['before=eyJmb28iOjF9', 'before'],
    ['after=abc', 'after'],
  ])('answers 400 for the query %s, naming the parameter', async (query, field) => {
    const userId = newUserId();
    const conversation = await insertConversation(t.dataSource, { userId });
    const response = await history(userId, conversation.id, `?${query}`);
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  });
});

import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { estimateTokens } from '../src/agent/context/context-window';
import type { RecordedRequest, SimStopReason } from './support/anthropic-simulator';
import { startChatHarness, type ChatHarness } from './support/chat-harness';
import { insertConversation, insertMessages } from './support/factories';
import { newUserId } from './support/test-app';

interface SentMessage {
  role: string;
  content: string | { type: string; text?: string; tool_use_id?: string; content?: unknown; is_error?: boolean }[];
}

const textOfRequest = (request: RecordedRequest) => request.body.messages as SentMessage[];

describe('POST /api/{user_id}/chat', () => {
  let h: ChatHarness;
  beforeAll(async () => {
    h = await startChatHarness({ env: { CHAT_TOOL_TIMEOUT_MS: '400', CHAT_CONTEXT_TOKEN_BUDGET: '2000' } });
  });
  afterAll(() => h.close());
  beforeEach(() => h.sim.reset());

  const history = (userId: string, conversationId: string) =>
    h.t.app
      .inject({ method: 'GET', url: `/api/${userId}/chat/${conversationId}/history`, headers: h.t.authHeaders(userId) })
      .then((response) => response.json());

  it('starts a new conversation, answers, and stores both sides titled after the first message', async () => {
    const userId = newUserId();
    h.sim.enqueue({ kind: 'text', text: 'Hello! How can I help?', usage: { input_tokens: 50, output_tokens: 7 } });

    const response = await h.send({ message: 'Hi there, what can you do?' }, userId);

    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toEqual({
      turn_id: body.user_message_id,
      conversation_id: expect.any(String),
      user_message_id: expect.any(String),
      message_id: expect.any(String),
      response: 'Hello! How can I help?',
      tool_calls: [],
      stop_reason: 'end_turn',
      usage: { input_tokens: 50, output_tokens: 7, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    });
    const stored = await history(userId, body.conversation_id);
    expect(stored.messages).toEqual([
      expect.objectContaining({
        id: body.user_message_id,
        role: 'user',
        content: 'Hi there, what can you do?',
        status: 'completed',
      }),
      expect.objectContaining({
        id: body.message_id,
        role: 'assistant',
        content: 'Hello! How can I help?',
        status: 'completed',
      }),
    ]);
    // Streamed from the model even for a JSON answer: other tabs may attach to the turn, and a cancel keeps its text.
    expect(h.sim.requests[0].body.stream).toBe(true);
    const conversation = await h.t.app.inject({
      method: 'GET',
      url: `/api/${userId}/conversations/${body.conversation_id}`,
      headers: h.t.authHeaders(userId),
    });
    expect(conversation.json()).toMatchObject({ title: 'Hi there, what can you do?', message_count: 2 });
  });

  it('continues a conversation: the model sees the earlier turns, oldest first', async () => {
    const userId = newUserId();
    h.sim.enqueue({ kind: 'text', text: 'Noted: you like tea.' }, { kind: 'text', text: 'You like tea.' });
    const first = (await h.send({ message: 'I like tea.' }, userId)).json();

    const second = await h.send({ message: 'What do I like?', conversation_id: first.conversation_id }, userId);

    expect(second.statusCode).toBe(200);
    expect(second.json().conversation_id).toBe(first.conversation_id);
    const sent = textOfRequest(h.sim.requests[1]);
    expect(sent.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(JSON.stringify(sent[0].content)).toContain('I like tea.');
    expect(JSON.stringify(sent[1].content)).toContain('Noted: you like tea.');
    expect(JSON.stringify(sent[2].content)).toContain('What do I like?');
    expect((await history(userId, first.conversation_id)).messages).toHaveLength(4);
  });

  it('keeps answering after the database connection under it is replaced (PGlite: one session for all)', async () => {
    const userId = newUserId();
    const first = await h.send({ message: 'before the reconnect' }, userId);
    expect(first.statusCode).toBe(200);
    // Drop the pooled connection that ran the turn's statements: the next turn runs on a new one.
    const pool = (h.t.dataSource.driver as unknown as { master: Pool }).master;
    const connection = await pool.connect();
    connection.release(true);

    const again = await h.send(
      { message: 'after the reconnect', conversation_id: first.json().conversation_id },
      userId,
    );
    const fresh = await h.send({ message: 'a new conversation' }, userId);

    expect([again.statusCode, fresh.statusCode]).toEqual([200, 200]);
    expect((await history(userId, first.json().conversation_id)).messages).toHaveLength(4);
  });

  it('runs a tool round trip: tool_use → MCP call → tool_result → answer, stored with its tool call', async () => {
    const userId = newUserId();
    h.sim.enqueue(
      {
        kind: 'tool_use',
        text: 'Let me echo that.',
        calls: [{ name: 'echo', input: { text: 'ping' }, id: 'toolu_1' }],
      },
      { kind: 'text', text: 'The echo said ping.' },
    );

    const response = await h.send({ message: 'Echo ping please' }, userId);

    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.response).toBe('Let me echo that.\n\nThe echo said ping.');
    expect(body.tool_calls).toEqual([
      {
        id: 'toolu_1',
        tool: 'echo',
        server: 'echo',
        arguments: { text: 'ping' },
        result: { text: 'ping' },
        is_error: false,
      },
    ]);
    const toolResult = textOfRequest(h.sim.requests[1]).at(-1);
    expect(toolResult).toMatchObject({
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ping' }],
    });
    const stored = await history(userId, body.conversation_id);
    expect(stored.messages[1].tool_calls).toEqual(body.tool_calls);
  });

  it('replays an earlier turn’s tool_use/tool_result blocks as context in the next turn', async () => {
    const userId = newUserId();
    h.sim.enqueue(
      { kind: 'tool_use', calls: [{ name: 'echo', input: { text: 'x' }, id: 'toolu_ctx' }] },
      { kind: 'text', text: 'Echoed.' },
      { kind: 'text', text: 'Sure.' },
    );
    const first = (await h.send({ message: 'Echo x' }, userId)).json();
    await h.send({ message: 'Thanks', conversation_id: first.conversation_id }, userId);

    const sent = textOfRequest(h.sim.requests[2]);
    expect(sent.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user']);
    expect(sent[1].content).toEqual([expect.objectContaining({ type: 'tool_use', id: 'toolu_ctx' })]);
    expect(sent[2].content).toEqual([expect.objectContaining({ type: 'tool_result', tool_use_id: 'toolu_ctx' })]);
  });

  it('binds tool calls to the caller: the MCP server sees the token’s user, whatever the model passes', async () => {
    const userId = newUserId();
    h.sim.enqueue(
      { kind: 'tool_use', calls: [{ name: 'whoami', input: { userId: 'mallory', user_id: 'mallory' } }] },
      { kind: 'text', text: 'ok' },
    );
    const body = (await h.send({ message: 'who am I?' }, userId)).json();
    expect(body.tool_calls[0].result).toMatchObject({ userId, clientId: 'chat-service' });
  });

  it('runs the tool calls of one round in parallel', async () => {
    h.sim.enqueue(
      {
        kind: 'tool_use',
        calls: [
          { name: 'whoami', input: { delayMs: 300 } },
          { name: 'whoami', input: { delayMs: 300 } },
          { name: 'whoami', input: { delayMs: 300 } },
        ],
      },
      { kind: 'text', text: 'done' },
    );
    const started = Date.now();
    const body = (await h.send({ message: 'three at once' })).json();
    expect(body.tool_calls).toHaveLength(3);
    expect(Date.now() - started).toBeLessThan(800);
  });

  it.each([
    ['throws', 'explode', /exploded/],
    ['returns isError', 'refuse', /task 999 not found/],
    ['hangs past its timeout', 'hang', /timed out after 400 ms/],
    ['does not exist', 'no_such_tool', /Unknown tool no_such_tool/],
  ])('answers when a tool %s: the model gets is_error and explains', async (_case, tool, message) => {
    h.sim.enqueue({ kind: 'tool_use', calls: [{ name: tool, input: {} }] }, { kind: 'text', text: 'That failed.' });
    const response = await h.send({ message: `run ${tool}` });
    expect(response.statusCode).toBe(200);
    const [call] = response.json().tool_calls;
    expect(call).toMatchObject({ tool, is_error: true });
    expect(String(call.result)).toMatch(message);
    const result = textOfRequest(h.sim.requests[1]).at(-1)?.content[0];
    expect(result).toMatchObject({ type: 'tool_result', is_error: true });
  });

  it('stops at the tool round limit and asks once more, with tools disabled, for a final answer', async () => {
    const limited = await startChatHarness({ env: { CHAT_MAX_TOOL_ROUNDS: '2' } });
    try {
      limited.sim.respondWith((request) =>
        request.body.tool_choice?.type === 'none'
          ? { kind: 'text', text: 'Here is what I found so far.' }
          : { kind: 'tool_use', calls: [{ name: 'echo', input: { text: 'again' } }] },
      );
      const response = await limited.send({ message: 'loop forever' });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({
        stop_reason: 'tool_round_limit',
        response: 'Here is what I found so far.',
      });
      expect(response.json().tool_calls).toHaveLength(2);
      expect(limited.sim.requests).toHaveLength(4);
      const lastResults = textOfRequest(limited.sim.requests[3]).at(-1)?.content[0];
      expect(lastResults).toMatchObject({ type: 'tool_result', is_error: true });
    } finally {
      await limited.close();
    }
  });

  it.each<SimStopReason>(['end_turn', 'max_tokens', 'stop_sequence', 'refusal', 'model_context_window_exceeded'])(
    'reports stop_reason %s and stores the answer',
    async (stopReason) => {
      const userId = newUserId();
      h.sim.enqueue({ kind: 'text', text: `stopped: ${stopReason}`, stopReason });
      const response = await h.send({ message: 'go' }, userId);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ stop_reason: stopReason, response: `stopped: ${stopReason}` });
      const stored = (await history(userId, response.json().conversation_id)).messages;
      expect(stored[1]).toMatchObject({ role: 'assistant', content: `stopped: ${stopReason}`, status: 'completed' });
    },
  );

  it('continues a pause_turn by sending the paused answer back, then finishes', async () => {
    h.sim.enqueue({ kind: 'text', text: 'Part one.', stopReason: 'pause_turn' }, { kind: 'text', text: 'Part two.' });
    const response = await h.send({ message: 'long job' });
    expect(response.json()).toMatchObject({ stop_reason: 'end_turn', response: 'Part one.\n\nPart two.' });
    expect(textOfRequest(h.sim.requests[1]).at(-1)).toMatchObject({ role: 'assistant' });
  });

  it('keeps a long conversation’s context within the token budget, in whole turns', async () => {
    const userId = newUserId();
    const conversation = await insertConversation(h.t.dataSource, { userId });
    await insertMessages(h.t.dataSource, conversation, 400);

    await h.send({ message: 'turn 201', conversation_id: conversation.id }, userId);

    const sent = textOfRequest(h.sim.requests[0]);
    const earlier = sent.slice(0, -1);
    expect(earlier.length).toBeGreaterThan(10);
    expect(earlier.length % 2).toBe(0);
    expect(earlier[0].role).toBe('user');
    expect(estimateTokens(earlier)).toBeLessThanOrEqual(2000 + 50);
    expect(JSON.stringify(earlier.at(-1)?.content)).toContain('message 400');
  });

  it('marks the stable prefix for prompt caching: tools, system prompt, end of history, last message', async () => {
    const userId = newUserId();
    h.sim.enqueue({ kind: 'text', text: 'one' }, { kind: 'text', text: 'two' });
    const first = (await h.send({ message: 'first' }, userId)).json();
    await h.send({ message: 'second', conversation_id: first.conversation_id }, userId);

    const body = h.sim.requests[1].body;
    expect(body.system).toEqual([expect.objectContaining({ cache_control: { type: 'ephemeral' } })]);
    expect(body.tools.at(-1).cache_control).toEqual({ type: 'ephemeral' });
    expect(body.tools.slice(0, -1).every((tool: { cache_control?: unknown }) => !tool.cache_control)).toBe(true);
    const messages = body.messages as { content: { cache_control?: unknown }[] }[];
    expect(messages[1].content.at(-1)?.cache_control).toEqual({ type: 'ephemeral' });
    expect(messages[2].content.at(-1)?.cache_control).toEqual({ type: 'ephemeral' });
    expect(messages[0].content.at(-1)?.cache_control).toBeUndefined();
  });

  it.each([
    ['a missing message', {}, 'message'],
    ['a blank message', { message: ' \n\t ' }, 'message'],
    ['a message over 8000 characters', { message: 'x'.repeat(8001) }, 'message'],
    ['a non-string message', { message: 42 }, 'message'],
    ['a conversation_id that is not a UUID', { message: 'hi', conversation_id: 'abc' }, 'conversation_id'],
    ['an undeclared field', { message: 'hi', model: 'claude-opus' }, 'model'],
  ])('refuses %s with 400 naming the field, storing nothing', async (_case, payload, field) => {
    const userId = newUserId();
    const response = await h.send(payload, userId);
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    expect(h.sim.requests).toHaveLength(0);
    const [{ count }] = await h.t.dataSource.query(
      'SELECT count(*)::int AS count FROM conversations WHERE user_id = $1',
      [userId],
    );
    expect(count).toBe(0);
  });

  it('answers 404 for another user’s conversation and stores nothing in it', async () => {
    const owner = newUserId();
    const conversation = await insertConversation(h.t.dataSource, { userId: owner });
    const response = await h.send({ message: 'let me in', conversation_id: conversation.id });
    expect(response.statusCode).toBe(404);
    expect(response.json().code).toBe('conversation_not_found');
    const missing = await h.send({ message: 'hello?', conversation_id: randomUUID() });
    expect(missing.statusCode).toBe(404);
    expect(h.sim.requests).toHaveLength(0);
    expect((await history(owner, conversation.id)).messages).toHaveLength(0);
  });
});

import type { SimReply } from './support/anthropic-simulator';
import { startChatHarness, type ChatHarness } from './support/chat-harness';
import { parseSse } from './support/sse';
import { createTestApp, newUserId } from './support/test-app';

const STREAM = { accept: 'text/event-stream' };

describe('Chat turns when the model fails', () => {
  let h: ChatHarness;
  beforeAll(async () => {
    h = await startChatHarness({ env: { ANTHROPIC_TIMEOUT_MS: '1000', ANTHROPIC_MAX_RETRIES: '1' } });
  });
  afterAll(() => h.close());
  beforeEach(() => h.sim.reset());

  const storedMessages = (userId: string) =>
    h.t.dataSource.query('SELECT role, status, error_code FROM messages WHERE user_id = $1 ORDER BY seq', [userId]);

  it('retries a 529 and answers when the model recovers', async () => {
    h.sim.enqueue({ kind: 'error', status: 529, type: 'overloaded_error' }, { kind: 'text', text: 'Back again.' });
    const response = await h.send({ message: 'hello' });
    expect(response.statusCode).toBe(200);
    expect(response.json().response).toBe('Back again.');
    expect(h.sim.requests).toHaveLength(2);
  });

  it.each<[string, number, string, SimReply]>([
    [
      '429 rate limits',
      503,
      'model_overloaded',
      { kind: 'error', status: 429, type: 'rate_limit_error', retryAfterSeconds: 0 },
    ],
    ['529 overloads', 503, 'model_overloaded', { kind: 'error', status: 529, type: 'overloaded_error' }],
    ['500 errors', 502, 'model_error', { kind: 'error', status: 500, type: 'api_error' }],
    ['400 rejections', 502, 'model_error', { kind: 'error', status: 400, type: 'invalid_request_error' }],
    ['stalls past the timeout', 504, 'model_timeout', { kind: 'stall', ms: 5000 }],
  ])(
    'after retries, maps %s to %i %s, keeps the user message as failed, and names it in the problem',
    async (_case, status, code, reply) => {
      const userId = newUserId();
      h.sim.respondWith(() => reply);

      const response = await h.send({ message: 'will this work?' }, userId);

      expect(response.statusCode).toBe(status);
      expect(response.headers['content-type']).toContain('application/problem+json');
      const problem = response.json();
      expect(problem).toMatchObject({
        status,
        code,
        conversation_id: expect.any(String),
        user_message_id: expect.any(String),
      });
      expect(JSON.stringify(problem)).not.toMatch(/anthropic|simulat|stack|at \w+ \(/i);
      if (status === 503) expect(response.headers['retry-after']).toBeDefined();
      expect(await storedMessages(userId)).toEqual([{ role: 'user', status: 'failed', error_code: code }]);
    },
  );

  it.each<[string, SimReply, Record<string, string>]>([
    ['negative usage', { kind: 'text', text: 'Odd.', usage: { input_tokens: -5 } }, {}],
    ['negative usage, streamed', { kind: 'text', text: 'Odd.', usage: { output_tokens: -1 } }, STREAM],
    ['no usage', { kind: 'malformed', replace: { usage: undefined } }, {}],
    ['content that is not an array', { kind: 'malformed', replace: { content: 'just a string' } }, {}],
    ['a block without a type', { kind: 'malformed', replace: { content: [{ text: 'untyped' }] } }, {}],
  ])(
    'answers a model response with %s as 502 model_error, and the metrics keep counting',
    async (_case, reply, headers) => {
      const userId = newUserId();
      h.sim.enqueue(reply);

      const response = await h.send({ message: 'a broken answer' }, userId, headers);

      const problem = headers.accept ? parseSse(response.body).at(-1)?.data : response.json();
      expect(problem).toMatchObject({ status: 502, code: 'model_error', user_message_id: expect.any(String) });
      expect(await storedMessages(userId)).toEqual([{ role: 'user', status: 'failed', error_code: 'model_error' }]);
      h.sim.enqueue({ kind: 'text', text: 'Fine again.', usage: { input_tokens: 3, output_tokens: 2 } });
      expect((await h.send({ message: 'and now?' })).statusCode).toBe(200);
      const metrics = await h.t.app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.statusCode).toBe(200);
      expect(metrics.body).not.toMatch(/model_tokens_total\{[^}]*\} -/);
    },
  );

  it('answers at once, with Retry-After capped at 60 s, when the provider asks for a longer wait than a turn can hold', async () => {
    h.sim.respondWith(() => ({ kind: 'error', status: 429, type: 'rate_limit_error', retryAfterSeconds: 86_400 }));

    const response = await h.send({ message: 'come back tomorrow?' });

    expect(response.statusCode).toBe(503);
    expect(response.json().code).toBe('model_overloaded');
    expect(response.headers['retry-after']).toBe('60');
    expect(h.sim.requests).toHaveLength(1);
  });

  it('leaves a failed turn out of the next turn’s context, and history keeps it', async () => {
    const userId = newUserId();
    h.sim.enqueue({ kind: 'text', text: 'First answer.' });
    const first = (await h.send({ message: 'first' }, userId)).json();
    h.sim.respondWith(() => ({ kind: 'error', status: 500, type: 'api_error' }));
    const failed = await h.send({ message: 'this one fails', conversation_id: first.conversation_id }, userId);
    expect(failed.statusCode).toBe(502);
    h.sim.reset().enqueue({ kind: 'text', text: 'Third answer.' });

    const third = await h.send({ message: 'third', conversation_id: first.conversation_id }, userId);

    expect(third.statusCode).toBe(200);
    const sent = h.sim.requests[0].body.messages as { role: string; content: unknown }[];
    expect(sent.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(JSON.stringify(sent)).not.toContain('this one fails');
    const history = await h.t.app.inject({
      method: 'GET',
      url: `/api/${userId}/chat/${first.conversation_id}/history`,
      headers: h.t.authHeaders(userId),
    });
    expect(history.json().messages.map((m: { status: string }) => m.status)).toEqual([
      'completed',
      'completed',
      'failed',
      'completed',
      'completed',
    ]);
  });
});

describe('Chat turns without a model configured', () => {
  it('answers 503 model_not_configured and stores nothing', async () => {
    const t = await createTestApp({ env: { ANTHROPIC_API_KEY: '' } });
    try {
      const userId = newUserId();
      const response = await t.app.inject({
        method: 'POST',
        url: `/api/${userId}/chat`,
        headers: t.authHeaders(userId),
        payload: { message: 'hello' },
      });
      expect(response.statusCode).toBe(503);
      expect(response.json().code).toBe('model_not_configured');
      const [{ count }] = await t.dataSource.query(
        'SELECT count(*)::int AS count FROM conversations WHERE user_id = $1',
        [userId],
      );
      expect(count).toBe(0);
    } finally {
      await t.close();
    }
  });
});

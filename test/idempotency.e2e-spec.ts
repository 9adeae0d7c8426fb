import { randomUUID } from 'node:crypto';
import { IdempotencyService } from '../src/chat/idempotency/idempotency.service';
import { startChatHarness, type ChatHarness } from './support/chat-harness';
import { newUserId } from './support/test-app';

describe('Idempotency-Key on POST /api/{user_id}/chat', () => {
  let h: ChatHarness;
  beforeAll(async () => {
    h = await startChatHarness({ env: { CHAT_BUSY_WAIT_MS: '3000' } });
  });
  afterAll(() => h.close());
  beforeEach(() => h.sim.reset());

  const turnsOf = async (userId: string) =>
    (
      await h.t.dataSource.query(`SELECT count(*)::int AS count FROM messages WHERE user_id = $1 AND role = 'user'`, [
        userId,
      ])
    )[0].count as number;

  it('answers ten concurrent repeats of one key with one model call and ten identical answers', async () => {
    const userId = newUserId();
    const key = randomUUID();
    h.sim.enqueue({ kind: 'stall', ms: 200, then: { kind: 'text', text: 'Only once.' } });

    const responses = await Promise.all(
      Array.from({ length: 10 }, () => h.send({ message: 'charge me once' }, userId, { 'idempotency-key': key })),
    );

    expect(responses.map((response) => response.statusCode)).toEqual(Array(10).fill(200));
    expect(new Set(responses.map((response) => response.body)).size).toBe(1);
    expect(h.sim.requests).toHaveLength(1);
    expect(await turnsOf(userId)).toBe(1);
  });

  it('returns the stored answer to a later repeat without calling the model', async () => {
    const userId = newUserId();
    const key = randomUUID();
    h.sim.enqueue({ kind: 'text', text: 'Stored.' });
    const first = await h.send({ message: 'remember me' }, userId, { 'idempotency-key': key });
    const again = await h.send({ message: 'remember me' }, userId, { 'idempotency-key': key });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
    expect(h.sim.requests).toHaveLength(1);
  });

  it("answers 404 for another user's conversation and leaves the key free, storing nothing", async () => {
    const owner = newUserId();
    const caller = newUserId();
    const { conversation_id } = (await h.send({ message: 'mine' }, owner)).json();
    const key = randomUUID();

    const foreign = await h.send({ message: 'hijack', conversation_id }, caller, { 'idempotency-key': key });
    const own = await h.send({ message: 'hijack' }, caller, { 'idempotency-key': key });

    expect(foreign.statusCode).toBe(404);
    expect(own.statusCode).toBe(200);
    expect(own.json().conversation_id).not.toBe(conversation_id);
    expect(await turnsOf(owner)).toBe(1);
    expect(await turnsOf(caller)).toBe(1);
  });

  it('replays a completed request even after its conversation was deleted, without calling the model', async () => {
    const userId = newUserId();
    const { conversation_id } = (await h.send({ message: 'start' }, userId)).json();
    const key = randomUUID();
    const body = { message: 'answer once', conversation_id };
    const first = await h.send(body, userId, { 'idempotency-key': key });
    const deleted = await h.t.app.inject({
      method: 'DELETE',
      url: `/api/${userId}/conversations/${conversation_id}`,
      headers: h.t.authHeaders(userId),
    });
    h.sim.reset();

    const again = await h.send(body, userId, { 'idempotency-key': key });

    expect(deleted.statusCode).toBe(204);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
    expect(h.sim.requests).toHaveLength(0);
  });

  it('answers a stored turn even when its key cannot record the answer, leaving the turn completed', async () => {
    const userId = newUserId();
    const idempotency = h.t.app.get(IdempotencyService);
    const complete = jest.spyOn(idempotency, 'complete').mockRejectedValueOnce(new Error('database blip'));
    h.sim.enqueue({ kind: 'text', text: 'Stored anyway.' });

    const response = await h.send({ message: 'keep me' }, userId, { 'idempotency-key': randomUUID() });

    expect(complete).toHaveBeenCalledTimes(1);
    expect(response.statusCode).toBe(200);
    expect(response.json().response).toBe('Stored anyway.');
    const rows = await h.t.dataSource.query(`SELECT role, status FROM messages WHERE user_id = $1 ORDER BY seq`, [
      userId,
    ]);
    expect(rows).toEqual([
      { role: 'user', status: 'completed' },
      { role: 'assistant', status: 'completed' },
    ]);
  });

  it('answers 422 when the key is reused with another body, storing nothing new', async () => {
    const userId = newUserId();
    const key = randomUUID();
    await h.send({ message: 'first body' }, userId, { 'idempotency-key': key });
    const other = await h.send({ message: 'another body' }, userId, { 'idempotency-key': key });
    expect(other.statusCode).toBe(422);
    expect(other.json().code).toBe('idempotency_key_reused');
    expect(await turnsOf(userId)).toBe(1);
  });

  it('answers 409 with Retry-After when the first request is still running past the wait', async () => {
    const impatient = await startChatHarness({ env: { CHAT_BUSY_WAIT_MS: '100' } });
    try {
      const userId = newUserId();
      const key = randomUUID();
      impatient.sim.enqueue({ kind: 'stall', ms: 800, then: { kind: 'text', text: 'Slow.' } });
      const first = impatient.send({ message: 'slow one' }, userId, { 'idempotency-key': key });
      await new Promise((resolve) => setTimeout(resolve, 150));
      const second = await impatient.send({ message: 'slow one' }, userId, { 'idempotency-key': key });
      expect(second.statusCode).toBe(409);
      expect(second.json().code).toBe('idempotency_key_in_use');
      expect(second.headers['retry-after']).toBeDefined();
      expect((await first).statusCode).toBe(200);
    } finally {
      await impatient.close();
    }
  });

  it('lets a repeat run the turn again when the first attempt failed', async () => {
    const userId = newUserId();
    const key = randomUUID();
    h.sim.respondWith(() => ({ kind: 'error', status: 500, type: 'api_error' }));
    expect((await h.send({ message: 'try again' }, userId, { 'idempotency-key': key })).statusCode).toBe(502);
    h.sim.respondWith(undefined);
    const retry = await h.send({ message: 'try again' }, userId, { 'idempotency-key': key });
    expect(retry.statusCode).toBe(200);
    expect(retry.json().response).toBe('Echo: try again');
  });

  it('keeps keys per user: the same key from two users runs two turns', async () => {
    const key = randomUUID();
    const [a, b] = [newUserId(), newUserId()];
    await h.send({ message: 'same key' }, a, { 'idempotency-key': key });
    await h.send({ message: 'same key' }, b, { 'idempotency-key': key });
    expect(await turnsOf(a)).toBe(1);
    expect(await turnsOf(b)).toBe(1);
  });

  it('refuses a key over 255 characters with 400 naming the header', async () => {
    const response = await h.send({ message: 'hi' }, newUserId(), { 'idempotency-key': 'k'.repeat(256) });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual([expect.objectContaining({ field: 'Idempotency-Key' })]);
  });

  it.each([
    ['a space', 'order 42'],
    ['a non-ASCII letter', 'caf\u00e9-42'],
    ['a control character', 'order\t42'],
  ])('refuses a key with %s: keys are 1..255 visible ASCII characters', async (_case, key) => {
    const response = await h.send({ message: 'hi' }, newUserId(), { 'idempotency-key': key });

    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      code: 'validation_failed',
      errors: [{ field: 'Idempotency-Key', message: 'must be 1..255 visible ASCII characters' }],
    });
    expect(h.sim.requests).toHaveLength(0);
  });

  it('accepts a key of 255 visible ASCII characters, punctuation included', async () => {
    h.sim.enqueue({ kind: 'text', text: 'Accepted.' });
    const key = `${randomUUID()}:!~{}"\\`.padEnd(255, '#');

    const response = await h.send({ message: 'hi' }, newUserId(), { 'idempotency-key': key });

    expect(response.statusCode).toBe(200);
  });

  it('documents the Idempotency-Key header as exactly what it accepts: 1..255 visible ASCII characters', async () => {
    const document = (await h.t.app.inject({ method: 'GET', url: '/docs-json' })).json();
    const parameters: { name: string; in: string; description: string }[] =
      document.paths['/api/{user_id}/chat'].post.parameters;

    const header = parameters.find((parameter) => parameter.name === 'Idempotency-Key');

    expect(header?.description).toMatch(/^1\.\.255 visible ASCII characters \(0x21–0x7E/);
  });

  it('purges keys older than the retention period and keeps newer ones', async () => {
    const userId = newUserId();
    await h.t.dataSource.query(
      `INSERT INTO idempotency_keys (user_id, key, fingerprint, state, created_at)
       VALUES ($1, 'old', 'f', 'completed', now() - interval '25 hours'), ($1, 'new', 'f', 'completed', now() - interval '23 hours')`,
      [userId],
    );
    await h.t.app.get(IdempotencyService).purge();
    const rows: { key: string }[] = await h.t.dataSource.query('SELECT key FROM idempotency_keys WHERE user_id = $1', [
      userId,
    ]);
    expect(rows.map((row) => row.key)).toEqual(['new']);
  });
});

import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import { startChatHarness, type ChatHarness } from './support/chat-harness';
import { Metrics } from '../src/metrics/metrics';
import { insertConversation } from './support/factories';
import { parseSse, readSse, type ParsedEvent } from './support/sse';
import { newUserId } from './support/test-app';

const STREAM = { accept: 'text/event-stream' };
const SSE_BUFFER = 64 * 1024;

/** Every warning logged through the request loggers Fastify derives from `root` from now on. */
function captureRequestWarnings(root: FastifyBaseLogger): unknown[][] {
  const warnings: unknown[][] = [];
  const child = root.child.bind(root);
  jest.spyOn(root, 'child').mockImplementation((...args: Parameters<FastifyBaseLogger['child']>) => {
    const logger = child(...args);
    jest.spyOn(logger, 'warn').mockImplementation((...warning: unknown[]) => void warnings.push(warning));
    return logger;
  });
  return warnings;
}

describe('Streaming a chat turn (Accept: text/event-stream)', () => {
  let h: ChatHarness;
  let baseUrl: string;

  beforeAll(async () => {
    h = await startChatHarness({
      env: { CHAT_SSE_KEEPALIVE_MS: '100', ANTHROPIC_MAX_RETRIES: '2', CHAT_SSE_MAX_BUFFER_BYTES: String(SSE_BUFFER) },
    });
    await h.t.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = await h.t.app.getUrl();
  });
  afterAll(() => h.close());
  beforeEach(() => h.sim.reset());
  afterEach(() => jest.restoreAllMocks());

  const stream = async (userId: string, payload: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const response = await h.t.app.inject({
      method: 'POST',
      url: `/api/${userId}/chat`,
      headers: { ...h.t.authHeaders(userId), ...STREAM, ...headers },
      payload,
    });
    return { response, events: parseSse(response.body) };
  };

  it('streams turn.started, text deltas and turn.completed, with increasing ids', async () => {
    const userId = newUserId();
    h.sim.enqueue({ kind: 'text', text: 'Streaming answers arrive in several pieces.' });

    const { response, events } = await stream(userId, { message: 'stream please' });

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/event-stream');
    expect(response.headers['x-request-id']).toBeDefined();
    const names = events.map((event) => event.event);
    expect(names[0]).toBe('turn.started');
    expect(names.at(-1)).toBe('turn.completed');
    expect(names.filter((name) => name === 'text.delta').length).toBeGreaterThan(1);
    expect(events.map((event) => Number(event.id))).toEqual(events.map((_, index) => index + 1));
    const deltas = events.filter((event) => event.event === 'text.delta').map((event) => event.data.text);
    const completed = events.at(-1)!.data;
    expect(deltas.join('')).toBe(completed.response);
    expect(events[0].data).toEqual({
      turn_id: completed.user_message_id,
      conversation_id: completed.conversation_id,
      user_message_id: completed.user_message_id,
    });
    expect(h.sim.requests[0].body.stream).toBe(true);
  });

  it('sends tool.started and tool.finished around each tool call', async () => {
    h.sim.enqueue(
      { kind: 'tool_use', calls: [{ name: 'echo', input: { text: 'hi' }, id: 'toolu_s1' }] },
      { kind: 'text', text: 'Echoed hi.' },
    );
    const { events } = await stream(newUserId(), { message: 'echo hi' });
    const started = events.find((event) => event.event === 'tool.started');
    const finished = events.find((event) => event.event === 'tool.finished');
    expect(started?.data).toEqual({ id: 'toolu_s1', tool: 'echo', server: 'echo', arguments: { text: 'hi' } });
    expect(finished?.data).toEqual({ id: 'toolu_s1', result: { text: 'hi' }, is_error: false });
    expect(events.indexOf(started!)).toBeLessThan(events.indexOf(finished!));
  });

  it('ends turn.completed with exactly the body a JSON request gets for the same turn', async () => {
    const userId = newUserId();
    h.sim.enqueue(
      { kind: 'tool_use', calls: [{ name: 'echo', input: { text: 'same' } }] },
      { kind: 'text', text: 'Same.' },
    );
    const key = randomUUID();
    const { events } = await stream(userId, { message: 'same body' }, { 'idempotency-key': key });

    const json = await h.send({ message: 'same body' }, userId, { 'idempotency-key': key });

    expect(json.statusCode).toBe(200);
    expect(events.at(-1)?.data).toEqual(json.json());
    expect(h.sim.requests).toHaveLength(2);
  });

  it('replays an idempotent stream as a stream holding only turn.completed', async () => {
    const userId = newUserId();
    const key = randomUUID();
    h.sim.enqueue({ kind: 'text', text: 'Once.' });
    const first = await stream(userId, { message: 'once' }, { 'idempotency-key': key });
    const replay = await stream(userId, { message: 'once' }, { 'idempotency-key': key });
    expect(replay.events.map((event) => event.event)).toEqual(['turn.completed']);
    expect(replay.events[0].data).toEqual(first.events.at(-1)?.data);
    expect(h.sim.requests).toHaveLength(1);
  });

  it('retries an overload that arrives at the start of the stream without the client seeing it', async () => {
    h.sim.enqueue({ kind: 'stream_error', type: 'overloaded_error' }, { kind: 'text', text: 'Recovered.' });
    const { events } = await stream(newUserId(), { message: 'busy hour' });
    expect(events.map((event) => event.event)).not.toContain('error');
    expect(events.at(-1)).toMatchObject({ event: 'turn.completed', data: { response: 'Recovered.' } });
    expect(h.sim.requests).toHaveLength(2);
  });

  it('ends with turn.failed (a problem, not an `error` event EventSource would confuse with its own) when the model fails after text was sent, and marks the message failed', async () => {
    const userId = newUserId();
    h.sim.enqueue({ kind: 'stream_error', type: 'overloaded_error', afterText: 'Half an ans' });
    const { events } = await stream(userId, { message: 'fail midway' });
    const error = events.at(-1)!;
    expect(error.event).toBe('turn.failed');
    expect(error.data).toMatchObject({ status: 503, code: 'model_overloaded', conversation_id: expect.any(String) });
    expect(h.sim.requests).toHaveLength(1);
    const rows = await h.t.dataSource.query('SELECT role, status, error_code FROM messages WHERE user_id = $1', [
      userId,
    ]);
    expect(rows).toEqual([{ role: 'user', status: 'failed', error_code: 'model_overloaded' }]);
  });

  it('counts a turn that fails mid-stream in http_errors_total by its code', async () => {
    const counted = async () => {
      const { values } = await h.t.app.get(Metrics).errors.get();
      return values.find((value) => value.labels.code === 'model_overloaded')?.value ?? 0;
    };
    const before = await counted();
    h.sim.enqueue({ kind: 'stream_error', type: 'overloaded_error', afterText: 'Half' });

    const { events } = await stream(newUserId(), { message: 'fail and be counted' });

    expect(events.at(-1)?.event).toBe('turn.failed');
    expect(await counted()).toBe(before + 1);
  });

  it('logs no "Reply was already sent" warning for a streamed turn', async () => {
    const warnings = captureRequestWarnings(h.t.app.getHttpAdapter().getInstance().log);
    h.sim.enqueue({ kind: 'text', text: 'Quietly streamed.' });

    const { events } = await stream(newUserId(), { message: 'no warnings please' });

    expect(events.at(-1)?.event).toBe('turn.completed');
    expect(warnings).toEqual([]);
  });

  it('answers errors found before the stream starts as plain HTTP problems', async () => {
    const userId = newUserId();
    const foreign = await insertConversation(h.t.dataSource, { userId: newUserId() });
    const { response } = await stream(userId, { message: 'hi', conversation_id: foreign.id });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toContain('application/problem+json');
  });

  it('sends keepalive comments while the model is silent', async () => {
    h.sim.enqueue({ kind: 'stall', ms: 450, then: { kind: 'text', text: 'Finally.' } });
    const { response } = await stream(newUserId(), { message: 'slow' });
    expect(response.body.match(/^: keepalive$/gm)?.length ?? 0).toBeGreaterThanOrEqual(2);
  });

  it('finishes and stores the turn when the client disconnects mid-stream', async () => {
    const userId = newUserId();
    h.sim.enqueue({ kind: 'stall', ms: 400, then: { kind: 'text', text: 'You left before this.' } });
    const abort = new AbortController();
    const response = await fetch(`${baseUrl}/api/${userId}/chat`, {
      method: 'POST',
      headers: { ...h.t.authHeaders(userId), ...STREAM, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'I will leave' }),
      signal: abort.signal,
    });
    let started: ParsedEvent | undefined;
    await readSse(response, (event) => {
      started ??= event;
      abort.abort();
    }).catch(() => undefined);
    expect(started?.event).toBe('turn.started');

    const conversationId = started!.data.conversation_id as string;
    let statuses: string[] = [];
    for (let i = 0; i < 50 && statuses.length < 2; i++) {
      await sleep(50);
      const rows: { status: string }[] = await h.t.dataSource.query(
        `SELECT status FROM messages WHERE conversation_id = $1 AND status = 'completed' ORDER BY seq`,
        [conversationId],
      );
      statuses = rows.map((row) => row.status);
    }
    const history = await h.t.app.inject({
      method: 'GET',
      url: `/api/${userId}/chat/${conversationId}/history`,
      headers: h.t.authHeaders(userId),
    });
    expect(history.json().messages).toEqual([
      expect.objectContaining({ role: 'user', status: 'completed' }),
      expect.objectContaining({ role: 'assistant', content: 'You left before this.', status: 'completed' }),
    ]);
  });

  it('disconnects a client that stops reading once its buffer passes the bound, and still stores the turn', async () => {
    const userId = newUserId();
    // Sent as 1 MiB deltas: far more than a fresh connection's socket buffers take at once.
    const answer = 'x'.repeat(4 * 1024 * 1024);
    h.sim.enqueue({ kind: 'text', text: answer });
    const socket = connect(Number(new URL(baseUrl).port), '127.0.0.1');
    await once(socket, 'connect');
    socket.pause();
    const body = JSON.stringify({ message: 'I will not read' });
    socket.write(
      [
        `POST /api/${userId}/chat HTTP/1.1`,
        'host: 127.0.0.1',
        `authorization: ${h.t.authHeaders(userId).authorization}`,
        'accept: text/event-stream',
        'content-type: application/json',
        `content-length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ].join('\r\n'),
    );

    const stored = await waitForAnswerLength(userId);
    const received = await readUntilClosedOrCompleted(socket);

    expect(stored).toBe(answer.length);
    expect(received).toContain('event: turn.started');
    expect(received).not.toContain('event: turn.completed');
    const [{ id: conversationId }] = await h.t.dataSource.query('SELECT id FROM conversations WHERE user_id = $1', [
      userId,
    ]);
    const history = await h.t.app.inject({
      method: 'GET',
      url: `/api/${userId}/chat/${conversationId}/history`,
      headers: h.t.authHeaders(userId),
    });
    expect(history.json().messages.map((m: { role: string; status: string }) => [m.role, m.status])).toEqual([
      ['user', 'completed'],
      ['assistant', 'completed'],
    ]);
  });

  /** The stored answer's length, once the turn is stored. */
  async function waitForAnswerLength(userId: string): Promise<number | undefined> {
    for (let i = 0; i < 200; i++) {
      // The embedded database has one connection, which storing a large answer holds for a while.
      const rows: { length: number }[] = await h.t.dataSource
        .query(`SELECT length(content) AS length FROM messages WHERE user_id = $1 AND role = 'assistant'`, [userId])
        .catch(() => []);
      if (rows.length > 0) return Number(rows[0].length);
      await sleep(50);
    }
    return undefined;
  }

  /** Reads what the server sent until it closed the connection, or sent the turn's last event. */
  function readUntilClosedOrCompleted(socket: Socket): Promise<string> {
    return new Promise((resolve) => {
      let received = '';
      const done = () => {
        socket.destroy();
        resolve(received);
      };
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        received += chunk;
        if (received.includes('event: turn.completed')) done();
      });
      socket.on('close', done);
      socket.on('error', done);
      socket.resume();
    });
  }
});

import { Writable } from 'node:stream';
import { ConversationsService } from '../src/chat/conversations.service';
import { startChatHarness, type ChatHarness } from './support/chat-harness';
import { createTestApp, newUserId, type TestApp } from './support/test-app';

const METRICS_TOKEN = 'metrics-scrape-token-0123456789';

/** A pino destination that keeps every line, parsed. */
function logCapture(): { lines: Record<string, unknown>[]; destination: Writable } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, destination };
}

describe('Error logging by kind', () => {
  let t: TestApp;
  const log = logCapture();
  beforeAll(async () => {
    t = await createTestApp({
      // A base URL without a key configures no model (README): the chat turn below is model_not_configured.
      env: { LOG_LEVEL: 'info', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9' },
      logDestination: log.destination,
      customize: (builder) =>
        builder.overrideProvider(ConversationsService).useValue({
          list: () => Promise.reject(new Error('an unexpected bug')),
        }),
    });
  });
  afterAll(() => t.close());
  beforeEach(() => log.lines.splice(0));

  const logOf = (requestId: string) => log.lines.find((line) => line.reqId === requestId && line.code !== undefined);

  it('logs a client error at info, without a stack', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/nope' });

    expect(logOf(response.headers['x-request-id'] as string)).toMatchObject({ level: 30, code: 'route_not_found' });
    expect(JSON.stringify(logOf(response.headers['x-request-id'] as string))).not.toContain('stack');
  });

  it('logs model_not_configured (ANTHROPIC_BASE_URL alone) at warn, without a stack', async () => {
    const userId = newUserId();
    const response = await t.app.inject({
      method: 'POST',
      url: `/api/${userId}/chat`,
      headers: t.authHeaders(userId),
      payload: { message: 'hello' },
    });

    expect(response.statusCode).toBe(503);
    const line = logOf(response.headers['x-request-id'] as string);
    expect(line).toMatchObject({ level: 40, code: 'model_not_configured' });
    expect(JSON.stringify(line)).not.toContain('stack');
  });

  it('logs an unexpected failure at error, with its stack', async () => {
    const userId = newUserId();
    const response = await t.app.inject({
      method: 'GET',
      url: `/api/${userId}/conversations`,
      headers: t.authHeaders(userId),
    });

    expect(response.statusCode).toBe(500);
    expect(logOf(response.headers['x-request-id'] as string)).toMatchObject({
      level: 50,
      code: 'internal_error',
      err: { message: 'an unexpected bug', stack: expect.stringContaining('an unexpected bug') },
    });
  });
});

describe('GET /metrics with METRICS_TOKEN', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { METRICS_TOKEN } });
  });
  afterAll(() => t.close());

  const scrape = (authorization?: string) =>
    t.app.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });

  it.each([undefined, 'Bearer wrong-token', `Basic ${METRICS_TOKEN}`])(
    'answers 401 problem+json to authorization %j',
    async (authorization) => {
      const response = await scrape(authorization);

      expect(response.statusCode).toBe(401);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json().code).toBe('unauthorized');
      expect(response.body).not.toContain('nodejs_heap');
    },
  );

  it('serves the metrics to the configured bearer token', async () => {
    const response = await scrape(`Bearer ${METRICS_TOKEN}`);

    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('http_errors_total');
  });
});

describe('RateLimit headers (README)', () => {
  let h: ChatHarness;
  beforeAll(async () => {
    h = await startChatHarness();
  });
  afterAll(() => h.close());

  it('are sent on chat responses, and not on other routes', async () => {
    const userId = newUserId();
    h.sim.enqueue({ kind: 'text', text: 'Counted.' });

    const chat = await h.send({ message: 'count me' }, userId);
    const list = await h.t.app.inject({
      method: 'GET',
      url: `/api/${userId}/conversations`,
      headers: h.t.authHeaders(userId),
    });

    expect(chat.headers).toHaveProperty('ratelimit');
    expect(chat.headers).toHaveProperty('ratelimit-policy');
    expect(list.headers).not.toHaveProperty('ratelimit');
  });
});

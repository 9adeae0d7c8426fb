import { startChatHarness, type ChatHarness } from './support/chat-harness';
import { createTestApp, newUserId, type TestApp } from './support/test-app';

const ALLOWED = 'https://app.example.com';

describe('CORS (CORS_ORIGINS)', () => {
  let h: ChatHarness;
  let t: TestApp;
  beforeAll(async () => {
    h = await startChatHarness({ env: { CORS_ORIGINS: `${ALLOWED}, http://localhost:5173` } });
    t = h.t;
  });
  afterAll(() => h.close());

  const listed = (value: unknown) =>
    String(value)
      .split(',')
      .map((item) => item.trim().toLowerCase());

  const preflight = (origin: string, method = 'POST', requestHeaders = 'authorization, content-type') =>
    t.app.inject({
      method: 'OPTIONS',
      url: `/api/${newUserId()}/chat`,
      headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': requestHeaders },
    });

  it('answers a preflight from an allowed origin with the methods and headers a client needs', async () => {
    const response = await preflight(ALLOWED, 'POST', 'authorization, content-type, idempotency-key, last-event-id');

    expect(response.statusCode).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe(ALLOWED);
    const methods = listed(response.headers['access-control-allow-methods']);
    expect(methods).toEqual(expect.arrayContaining(['get', 'post', 'patch', 'delete']));
    const allowed = listed(response.headers['access-control-allow-headers']);
    expect(allowed).toEqual(
      expect.arrayContaining(['authorization', 'content-type', 'idempotency-key', 'last-event-id']),
    );
  });

  it('gives a preflight from another origin no Access-Control-Allow-Origin', async () => {
    const response = await preflight('https://evil.example.net');

    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('exposes the request id, Retry-After and rate-limit headers on actual responses', async () => {
    const userId = newUserId();
    const response = await t.app.inject({
      method: 'GET',
      url: `/api/${userId}/conversations`,
      headers: { ...t.authHeaders(userId), origin: ALLOWED },
    });

    expect(response.statusCode).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBe(ALLOWED);
    const exposed = listed(response.headers['access-control-expose-headers']);
    expect(exposed).toEqual(expect.arrayContaining(['x-request-id', 'retry-after', 'ratelimit', 'ratelimit-policy']));
  });

  it('gives a streamed turn the CORS headers too', async () => {
    h.sim.enqueue({ kind: 'text', text: 'Streamed across origins.' });

    const response = await h.send({ message: 'stream' }, undefined, { origin: ALLOWED, accept: 'text/event-stream' });

    expect(response.headers['content-type']).toContain('text/event-stream');
    expect(response.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(listed(response.headers['access-control-expose-headers'])).toContain('x-request-id');
  });

  it('sends no CORS headers when CORS_ORIGINS is unset', async () => {
    const plain = await createTestApp();
    try {
      const response = await plain.app.inject({
        method: 'OPTIONS',
        url: `/api/${newUserId()}/chat`,
        headers: { origin: ALLOWED, 'access-control-request-method': 'POST' },
      });
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await plain.close();
    }
  });
});

import { connect, type Socket } from 'node:net';
import { startChatHarness, type ChatHarness } from './support/chat-harness';
import { parseSse } from './support/sse';
import { createTestApp, newUserId, type TestApp } from './support/test-app';

const REQUEST_TIMEOUT_MS = 1_000;

/** Resolves with what the server sent and how long it took to close the socket. */
function closedAfter(socket: Socket): Promise<{ elapsedMs: number; received: string }> {
  const startedAt = Date.now();
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  socket.on('error', () => undefined);
  return new Promise((resolve) => socket.once('close', () => resolve({ elapsedMs: Date.now() - startedAt, received })));
}

async function until(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('HTTP request timeouts', () => {
  let h: ChatHarness;
  let port: number;

  beforeAll(async () => {
    h = await startChatHarness({
      env: {
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        HTTP_HEADERS_TIMEOUT_MS: '500',
        CHAT_SSE_KEEPALIVE_MS: '200',
      },
    });
    await h.t.app.listen({ port: 0, host: '127.0.0.1' });
    port = Number(new URL(await h.t.app.getUrl()).port);
  });
  afterAll(() => h.close());
  beforeEach(() => h.sim.reset());

  const open = () => connect({ port, host: '127.0.0.1' });

  it('closes a connection whose body stalls half-sent, with 408, within the request timeout', async () => {
    const userId = newUserId();
    const socket = open();
    const closed = closedAfter(socket);
    socket.write(
      `POST /api/${userId}/chat HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer ${h.t.tokenFor(userId)}\r\n` +
        'content-type: application/json\r\ncontent-length: 100\r\n\r\n{"message":"half',
    );

    const { elapsedMs, received } = await closed;

    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(elapsedMs).toBeLessThan(REQUEST_TIMEOUT_MS + 2_500);
    expect(h.sim.requests).toHaveLength(0);
  });

  it('closes a connection whose headers never end', async () => {
    const socket = open();
    const closed = closedAfter(socket);
    socket.write('GET /health/live HTTP/1.1\r\nhost: localhost\r\n');

    const { elapsedMs } = await closed;

    expect(elapsedMs).toBeLessThan(REQUEST_TIMEOUT_MS + 2_500);
  });

  it('keeps serving a keep-alive connection that idled longer than the header and request timeouts', async () => {
    const socket = open();
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    const ask = () => socket.write('GET /health/live HTTP/1.1\r\nhost: localhost\r\n\r\n');
    const answers = () => received.match(/HTTP\/1\.1 200 /g)?.length ?? 0;

    ask();
    await until(() => answers() === 1);
    await new Promise((resolve) => setTimeout(resolve, REQUEST_TIMEOUT_MS * 2));
    ask();
    await until(() => answers() === 2);

    expect(received).not.toContain(' 408 ');
    socket.destroy();
  });

  it('does not cut a streamed turn that lasts longer than the request timeout', async () => {
    const userId = newUserId();
    h.sim.enqueue({ kind: 'stall', ms: REQUEST_TIMEOUT_MS * 2.5, then: { kind: 'text', text: 'Worth the wait.' } });

    const response = await fetch(`http://127.0.0.1:${port}/api/${userId}/chat`, {
      method: 'POST',
      headers: { ...h.t.authHeaders(userId), 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ message: 'take your time' }),
    });
    const events = parseSse(await response.text());

    expect(events.at(-1)).toMatchObject({ event: 'turn.completed', data: { response: 'Worth the wait.' } });
  });

  it('does not cut a JSON turn that lasts longer than the request timeout', async () => {
    const userId = newUserId();
    h.sim.enqueue({ kind: 'stall', ms: REQUEST_TIMEOUT_MS * 2.5, then: { kind: 'text', text: 'Still here.' } });

    const response = await fetch(`http://127.0.0.1:${port}/api/${userId}/chat`, {
      method: 'POST',
      headers: { ...h.t.authHeaders(userId), 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'take your time' }),
    });

    expect(response.status).toBe(200);
    expect(((await response.json()) as { response: string }).response).toBe('Still here.');
  });
});

describe('Connections per address (HTTP_MAX_CONNECTIONS_PER_IP)', () => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await createTestApp({ env: { HTTP_MAX_CONNECTIONS_PER_IP: '2' } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = Number(new URL(await t.app.getUrl()).port);
  });
  afterAll(() => t.close());

  const connected = async () => {
    const socket = connect({ port, host: '127.0.0.1' });
    await new Promise((resolve) => socket.once('connect', resolve));
    return socket;
  };
  const askLive = (socket: Socket) => {
    const closed = closedAfter(socket);
    socket.end('GET /health/live HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n');
    return closed;
  };

  it('closes a connection over the bound unanswered, and accepts again once one is closed', async () => {
    const held = [await connected(), await connected()];

    expect((await askLive(await connected())).received).toBe('');

    held[0].destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await askLive(await connected())).received).toMatch(/^HTTP\/1\.1 200 /);
    held[1].destroy();
  });
});

import { startChatHarness, type ChatHarness } from './support/chat-harness';
import { newUserId } from './support/test-app';

const CONVERSATION_ID = '5f1c7a56-3f0e-4d43-9d3e-2b0f2b1f5a11';

describe('JSON routes accept application/json only', () => {
  let h: ChatHarness;
  beforeAll(async () => {
    h = await startChatHarness();
  });
  afterAll(() => h.close());
  beforeEach(() => h.sim.reset());

  const post = (
    url: string,
    method: 'POST' | 'PATCH',
    userId: string,
    headers: Record<string, string>,
    payload: string,
  ) => h.t.app.inject({ method, url, headers: { ...h.t.authHeaders(userId), ...headers }, payload });

  const refusedBodies: [string, Record<string, string>, string][] = [
    ['a form', { 'content-type': 'application/x-www-form-urlencoded' }, 'message=hello'],
    [
      'multipart',
      { 'content-type': 'multipart/form-data; boundary=x' },
      '--x\r\nContent-Disposition: form-data; name="message"\r\n\r\nhello\r\n--x--\r\n',
    ],
    ['text/plain', { 'content-type': 'text/plain' }, '{"message":"hello"}'],
    ['no content type', {}, '{"message":"hello"}'],
  ];

  it.each(refusedBodies)('answers %s on the chat route with 415 and runs no turn', async (_name, headers, payload) => {
    const userId = newUserId();
    const response = await post(`/api/${userId}/chat`, 'POST', userId, headers, payload);

    expect(response.statusCode).toBe(415);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json().code).toBe('unsupported_media_type');
    expect(h.sim.requests).toHaveLength(0);
  });

  it.each(refusedBodies)('answers %s on a conversation rename with 415', async (_name, headers, payload) => {
    const userId = newUserId();
    const response = await post(`/api/${userId}/conversations/${CONVERSATION_ID}`, 'PATCH', userId, headers, payload);

    expect(response.statusCode).toBe(415);
    expect(response.json().code).toBe('unsupported_media_type');
  });

  it('answers a JSON body that is not valid UTF-8 (a lone surrogate sent as bytes) with 400, and stores nothing', async () => {
    const userId = newUserId();
    const loneSurrogate = Buffer.from([0xed, 0xa0, 0x80]);
    const payload = Buffer.concat([Buffer.from('{"message":"a'), loneSurrogate, Buffer.from('b"}')]);
    const response = await h.t.app.inject({
      method: 'POST',
      url: `/api/${userId}/chat`,
      headers: { ...h.t.authHeaders(userId), 'content-type': 'application/json' },
      payload,
    });

    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'invalid_json', detail: expect.stringContaining('UTF-8') });
    expect(h.sim.requests).toHaveLength(0);
    const stored = await h.t.dataSource.query('SELECT count(*)::int AS n FROM messages WHERE user_id = $1', [userId]);
    expect(stored[0].n).toBe(0);
  });

  it('still runs a turn sent as application/json with a charset', async () => {
    h.sim.enqueue({ kind: 'text', text: 'JSON it is.' });
    const userId = newUserId();
    const response = await post(
      `/api/${userId}/chat`,
      'POST',
      userId,
      { 'content-type': 'application/json; charset=utf-8' },
      JSON.stringify({ message: 'hello' }),
    );

    expect(response.statusCode).toBe(200);
    expect(response.json().response).toBe('JSON it is.');
  });
});

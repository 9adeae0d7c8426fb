import { createTestApp, newUserId, type TestApp } from './support/test-app';

describe('Errors are problem+json with a request id', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { BODY_LIMIT_BYTES: '2048' } });
  });
  afterAll(() => t.close());

  const patch = (headers: Record<string, string>, payload: string) => {
    const userId = newUserId();
    return t.app.inject({
      method: 'PATCH',
      url: `/api/${userId}/conversations/5f1c7a56-3f0e-4d43-9d3e-2b0f2b1f5a11`,
      headers: { ...t.authHeaders(userId), ...headers },
      payload,
    });
  };

  it('answers an unknown route with 404 route_not_found', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/nope' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({
      type: '/problems/route_not_found',
      status: 404,
      code: 'route_not_found',
      instance: '/nope',
    });
  });

  it('answers malformed JSON with 400 invalid_json', async () => {
    const response = await patch({ 'content-type': 'application/json' }, '{"title": ');
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe('invalid_json');
  });

  it('answers a body over the limit with 413 payload_too_large', async () => {
    const response = await patch({ 'content-type': 'application/json' }, JSON.stringify({ title: 'x'.repeat(4096) }));
    expect(response.statusCode).toBe(413);
    expect(response.json().code).toBe('payload_too_large');
  });

  it('answers a non-JSON content type with 415 unsupported_media_type', async () => {
    const response = await patch({ 'content-type': 'text/plain' }, 'title=x');
    expect(response.statusCode).toBe(415);
    expect(response.json().code).toBe('unsupported_media_type');
  });

  it('echoes a sane x-request-id in the header and the problem', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/nope', headers: { 'x-request-id': 'trace-123.abc' } });
    expect(response.headers['x-request-id']).toBe('trace-123.abc');
    expect(response.json().request_id).toBe('trace-123.abc');
  });

  it('replaces an unsafe x-request-id with a generated one', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/nope',
      headers: { 'x-request-id': 'bad id\u0007<script>' },
    });
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.json().request_id).toBe(response.headers['x-request-id']);
  });

  it('serves the OpenAPI document with bearer auth and problem responses, without a token', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/docs-json' });
    expect(response.statusCode).toBe(200);
    const document = response.json();
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(document.paths['/api/{user_id}/conversations'].get.responses['401'].content).toHaveProperty([
      'application/problem+json',
    ]);
    expect((await t.app.inject({ method: 'GET', url: '/docs' })).statusCode).toBe(200);
  });
});

import type { OpenAPIObject } from '@nestjs/swagger';
import { createTestApp, type TestApp } from './support/test-app';

/**
 * The document the running service serves at /docs-json. Tests run without the Swagger CLI plugin
 * (DTO fields are the plugin's work: test/openapi-document.spec.ts checks those in openapi.json), so
 * this checks what decorators and buildOpenApiDocument put in it.
 */
describe('The served OpenAPI document', () => {
  let t: TestApp;
  let document: OpenAPIObject;
  beforeAll(async () => {
    t = await createTestApp();
    document = (await t.app.inject({ method: 'GET', url: '/docs-json' })).json();
  });
  afterAll(() => t.close());

  it('types the chat answer as ChatTurnDto and streams as a union of events, whatever the handler returns', () => {
    const ok = document.paths['/api/{user_id}/chat'].post?.responses['200'] as {
      content: Record<string, { schema: { $ref?: string; oneOf?: unknown[] } }>;
    };

    expect(ok.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ChatTurnDto' });
    expect(ok.content['text/event-stream'].schema.oneOf).toHaveLength(7);
  });

  it('documents the public routes with security: [] and everything else with the bearer default', () => {
    expect(document.security).toEqual([{ bearer: [] }]);
    expect(document.paths['/health/live'].get?.security).toEqual([]);
    expect(document.paths['/metrics'].get?.security).toEqual([]);
    expect(document.paths['/api/{user_id}/tools'].get?.security).toEqual([{ bearer: [] }]);
    expect(JSON.stringify(document)).not.toContain('x-public');
  });

  it('has a server and an x-request-id header on every response', () => {
    expect(document.servers).toEqual([expect.objectContaining({ url: '/' })]);
    const responses = Object.values(document.paths).flatMap((item) =>
      Object.values(item).flatMap((operation: { responses?: object }) => Object.values(operation.responses ?? {})),
    );

    expect(responses.length).toBeGreaterThan(20);
    for (const response of responses) expect(response.headers).toHaveProperty(['x-request-id']);
  });
});

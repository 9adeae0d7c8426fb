import type { OpenAPIObject } from '@nestjs/swagger';
import { findOpenApiViolations } from './openapi-rules';

function documentWith(
  schema: Record<string, unknown>,
  components: Record<string, unknown> = {},
  operationId = 'sendMessage',
): OpenAPIObject {
  return {
    openapi: '3.0.0',
    info: { title: 't', version: '1' },
    paths: {
      '/chat': {
        post: {
          operationId,
          responses: {
            '200': { description: 'ok', content: { 'application/json': { schema } } },
            '400': { description: 'bad', content: { 'application/json': { schema: { type: 'object' } } } },
          },
        },
      },
    },
    components: { schemas: components },
  } as OpenAPIObject;
}

describe(findOpenApiViolations.name, () => {
  it('flags a 2xx body that is a bare object', () => {
    expect(findOpenApiViolations(documentWith({ type: 'object' }))).toEqual([
      'POST /chat 200 application/json: bare object at body',
    ]);
  });

  it('flags a bare object reached through a $ref, a property, array items and a oneOf', () => {
    const components = {
      Turn: { type: 'object', properties: { calls: { type: 'array', items: { $ref: '#/components/schemas/Call' } } } },
      Call: { type: 'object', properties: { result: { oneOf: [{ type: 'string' }, { type: 'object' }] } } },
    };

    expect(findOpenApiViolations(documentWith({ $ref: '#/components/schemas/Turn' }, components))).toEqual([
      'POST /chat 200 application/json: bare object at Call.result.oneOf[1]',
    ]);
  });

  it('accepts objects with properties, additionalProperties or a oneOf, and ignores error bodies', () => {
    const schema = {
      type: 'object',
      properties: {
        args: { type: 'object', additionalProperties: true },
        result: { oneOf: [{ type: 'string' }, { type: 'object', additionalProperties: true }] },
      },
    };

    expect(findOpenApiViolations(documentWith(schema))).toEqual([]);
  });

  it('terminates on recursive schemas', () => {
    const components = {
      Node: { type: 'object', properties: { child: { $ref: '#/components/schemas/Node' } } },
    };

    expect(findOpenApiViolations(documentWith({ $ref: '#/components/schemas/Node' }, components))).toEqual([]);
  });

  it('flags an operation id that does not read as a method name', () => {
    expect(findOpenApiViolations(documentWith({ type: 'string' }, {}, 'ChatController_send'))).toEqual([
      'POST /chat: operationId "ChatController_send" is not a camelCase method name',
    ]);
  });
});

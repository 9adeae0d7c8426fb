import type { OpenAPIObject, OperationObject, ParameterObject, SchemaObject } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findOpenApiViolations } from '../src/bootstrap/openapi-rules';
import { ERROR_CODE_NAMES } from '../src/common/errors/error-code';

/**
 * The committed document, as clients are generated from it. Tests run under swc, without the Swagger
 * CLI plugin that types the DTOs, so they read the file `npm run openapi` wrote; `npm run openapi:check`
 * (CI) fails when it differs from what the code generates.
 */
const document = JSON.parse(readFileSync(join(__dirname, '..', 'openapi.json'), 'utf8')) as OpenAPIObject;
const schemas = document.components?.schemas as Record<string, SchemaObject>;

function operation(path: string, method: 'get' | 'post' | 'patch' | 'delete'): OperationObject {
  const found = document.paths[path]?.[method];
  if (!found) throw new Error(`${method} ${path} is not documented`);
  return found;
}

function operations(): [string, OperationObject][] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    (['get', 'post', 'patch', 'delete'] as const).flatMap((method) =>
      item[method] ? [[`${method} ${path}`, item[method]] as [string, OperationObject]] : [],
    ),
  );
}

const CHAT = '/api/{user_id}/chat';

describe('openapi.json', () => {
  it('has no bare object in any 2xx body and only camelCase, unique operation ids', () => {
    expect(findOpenApiViolations(document)).toEqual([]);
  });

  it('types the 200 of POST chat as the chat turn, and its stream as a union of the SSE events', () => {
    const content = operation(CHAT, 'post').responses['200'] as { content: Record<string, { schema: SchemaObject }> };

    expect(content.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ChatTurnDto' });
    const stream = content.content['text/event-stream'].schema;
    expect(stream.discriminator?.propertyName).toBe('event');
    expect(Object.keys(stream.discriminator?.mapping ?? {}).sort()).toEqual(
      [
        'turn.failed',
        'text.delta',
        'tool.finished',
        'tool.started',
        'approval.required',
        'turn.completed',
        'turn.started',
      ].sort(),
    );
    const completed = schemas[stream.discriminator!.mapping!['turn.completed'].split('/').pop()!];
    expect(JSON.stringify(completed.properties?.data)).toContain('"#/components/schemas/ChatTurnDto"');
  });

  it('names operations as methods', () => {
    expect(Object.fromEntries(operations().map(([where, op]) => [where, op.operationId]))).toEqual({
      [`post ${CHAT}`]: 'sendMessage',
      [`get ${CHAT}/{conversation_id}/history`]: 'getHistory',
      [`get ${CHAT}/{conversation_id}/turns/{turn_id}/events`]: 'getTurnEvents',
      [`post ${CHAT}/{conversation_id}/turns/{turn_id}/cancel`]: 'cancelTurn',
      [`post ${CHAT}/{conversation_id}/approvals`]: 'decideApprovals',
      'get /api/{user_id}/conversations': 'listConversations',
      'get /api/{user_id}/conversations/{conversation_id}': 'getConversation',
      'patch /api/{user_id}/conversations/{conversation_id}': 'renameConversation',
      'delete /api/{user_id}/conversations/{conversation_id}': 'deleteConversation',
      'get /api/{user_id}/tools': 'listTools',
      'get /health/live': 'getLiveness',
      'get /health/ready': 'getReadiness',
      'get /metrics': 'getMetrics',
    });
  });

  it('marks limit optional on both list routes', () => {
    for (const path of [`${CHAT}/{conversation_id}/history`, '/api/{user_id}/conversations']) {
      const limit = (operation(path, 'get').parameters as ParameterObject[]).find((p) => p.name === 'limit');
      expect(limit).toMatchObject({ in: 'query', required: false });
    }
  });

  it('has a server, bearer auth by default, and security: [] on the public routes only', () => {
    expect(document.servers?.length).toBeGreaterThan(0);
    expect(document.security).toEqual([{ bearer: [] }]);
    for (const [where, op] of operations()) {
      const isPublic = / \/(health|metrics)/.test(where);
      expect([where, op.security]).toEqual([where, isPublic ? [] : [{ bearer: [] }]]);
    }
  });

  it('documents x-request-id on every response, Retry-After on 429 and 503, RateLimit on the chat 200 and 429', () => {
    for (const [where, op] of operations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        expect([where, status, Object.keys((response as { headers?: object }).headers ?? {})]).toEqual([
          where,
          status,
          expect.arrayContaining([
            'x-request-id',
            ...(['429', '503'].includes(status) ? ['Retry-After'] : []),
            ...(where === `post ${CHAT}` && ['200', '429'].includes(status) ? ['RateLimit', 'RateLimit-Policy'] : []),
          ]),
        ]);
      }
    }
  });

  it('lists every error code, the turn-error extensions and field errors on the problem schema', () => {
    const problem = schemas.ProblemDto;

    expect(problem.properties).toHaveProperty('conversation_id');
    expect(problem.properties).toHaveProperty('user_message_id');
    expect(problem.properties).toHaveProperty('errors');
    expect(schemas.ErrorCode.enum).toEqual([...ERROR_CODE_NAMES]);
    expect(JSON.stringify(problem.properties?.code)).toContain('"#/components/schemas/ErrorCode"');
  });

  it('gives enums for stop_reason, role, status and error_code, and result as string or object', () => {
    expect(JSON.stringify(schemas.ChatTurnDto.properties?.stop_reason)).toContain('"#/components/schemas/StopReason"');
    expect(schemas.StopReason.enum).toEqual(expect.arrayContaining(['end_turn', 'max_tokens', 'tool_round_limit']));
    const message = schemas.MessageDto.properties as Record<string, SchemaObject>;
    expect(message.role.enum).toEqual(['user', 'assistant']);
    expect(message.status.enum).toEqual(['pending', 'completed', 'failed']);
    expect(message.error_code).toMatchObject({ type: 'string', nullable: true, enum: [...ERROR_CODE_NAMES] });
    const result = (schemas.ToolCallDto.properties as Record<string, SchemaObject>).result;
    expect(result.oneOf).toEqual([{ type: 'string' }, { type: 'object', additionalProperties: true }]);
  });

  it('prefills a send-message example that works unchanged: a message and no conversation_id', () => {
    const body = operation(CHAT, 'post').requestBody as {
      content: Record<string, { examples?: Record<string, { value: unknown }> }>;
    };
    const examples = Object.values(body.content['application/json'].examples ?? {});

    expect(examples.length).toBeGreaterThan(0);
    for (const { value } of examples) expect(Object.keys(value as object)).toEqual(['message']);
    for (const [, op] of operations()) {
      for (const parameter of (op.parameters ?? []) as ParameterObject[]) {
        if (parameter.in === 'path') expect([parameter.name, parameter.example]).toEqual([parameter.name, undefined]);
      }
    }
  });
});

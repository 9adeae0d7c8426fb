import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject, type OperationObject } from '@nestjs/swagger';
import { API_RESPONSE_HEADERS, apiHeaders } from '../common/http/api-headers';
import { BEARER_AUTH, PUBLIC_OPERATION_EXTENSION } from '../common/http/openapi-security';
import { REQUEST_ID_HEADER } from '../common/http/request-id';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export function buildOpenApiDocument(app: NestFastifyApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('chat-service')
    .setDescription(
      'Chat with Claude, which acts through tools served by MCP servers; every conversation is kept in ' +
        'PostgreSQL. Every `/api` route needs `Authorization: Bearer <JWT>` whose `sub` is the `user_id` of ' +
        'the path. Errors are `application/problem+json` (RFC 9457) with a stable `code` and a `request_id`.',
    )
    .setVersion('0.1.0')
    .setLicense('UNLICENSED', 'https://docs.npmjs.com/cli/configuring-npm/package-json#license')
    // Relative: the document is served by, and describes, whichever origin serves it.
    .addServer(
      '/',
      'The origin serving this document: each environment (development, staging, production) serves its own',
      undefined,
      {
        'x-internal': false,
      },
    )
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description:
          'A JWT whose `sub` is the user id, verified as RFC8725 recommends: the accepted algorithms are pinned by ' +
          'configuration (never `none`), `exp` is required, `iss` and `aud` are checked when configured.',
      },
      BEARER_AUTH,
    )
    .addSecurityRequirements(BEARER_AUTH)
    .addTag('chat', 'Send messages and read a conversation’s history')
    .addTag('conversations', 'List, read, rename and delete conversations')
    .addTag('tools', 'The tools the agent can call')
    .addTag('health', 'Probes and metrics for operators (no token)')
    .build();
  return finishDocument(SwaggerModule.createDocument(app, config));
}

/** What decorators cannot say per route: shared headers on every response, `security: []` on `@Public()` routes. */
function finishDocument(document: OpenAPIObject): OpenAPIObject {
  document.components = { ...document.components, headers: API_RESPONSE_HEADERS };
  for (const item of Object.values(document.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (operation) finishOperation(operation);
    }
  }
  return document;
}

function finishOperation(operation: OperationObject): void {
  const marked = operation as OperationObject & Record<typeof PUBLIC_OPERATION_EXTENSION, unknown>;
  if (marked[PUBLIC_OPERATION_EXTENSION]) {
    delete marked[PUBLIC_OPERATION_EXTENSION];
    operation.security = [];
  }
  for (const response of Object.values(operation.responses)) {
    if (!response || '$ref' in response) continue;
    response.headers = { ...apiHeaders(REQUEST_ID_HEADER, 'Access-Control-Allow-Origin'), ...response.headers };
  }
}

/** Swagger UI at /docs (bearer auth remembered across reloads) and the document at /docs-json. */
export function setupSwagger(app: NestFastifyApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true },
  });
}

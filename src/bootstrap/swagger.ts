import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

export const BEARER_AUTH = 'bearer';

export function buildOpenApiDocument(app: NestFastifyApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('chat-service')
    .setDescription(
      'Chat with Claude, which acts through tools served by MCP servers; every conversation is kept in ' +
        'PostgreSQL. Every `/api` route needs `Authorization: Bearer <JWT>` whose `sub` is the `user_id` of ' +
        'the path. Errors are `application/problem+json` (RFC 9457) with a stable `code` and a `request_id`.',
    )
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, BEARER_AUTH)
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** Swagger UI at /docs (bearer auth remembered across reloads) and the document at /docs-json. */
export function setupSwagger(app: NestFastifyApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true },
  });
}

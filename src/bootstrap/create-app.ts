import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { REQUEST_ID_HEADER, requestIdFor } from '../common/http/request-id';
import { PROBLEM_CONTENT_TYPE } from '../common/problem/problem';
import { Metrics } from '../metrics/metrics.service';
import type { AppConfig } from '../config/app-config';
import { setupSwagger } from './swagger';

export function createFastifyAdapter(config: AppConfig, logger: Logger): FastifyAdapter {
  return new FastifyAdapter({
    loggerInstance: logger,
    bodyLimit: config.bodyLimitBytes,
    genReqId: requestIdFor,
    // Proxies close idle keep-alive sockets after ~60 s; staying above avoids resets on reuse.
    keepAliveTimeout: 72_000,
  });
}

/**
 * Everything that makes an application instance ours, shared by main.ts and the e2e tests so the
 * tests exercise the same request ids, error handling and docs as production.
 */
export async function configureApp(app: NestFastifyApplication): Promise<NestFastifyApplication> {
  const fastify = app.getHttpAdapter().getInstance();
  // The API speaks JSON only: any other body type is a 415, not a string that fails validation later.
  fastify.removeContentTypeParser('text/plain');
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  const { httpRequestDuration, errors } = app.get(Metrics);
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    // Only error responses are read back, to count them by their stable code.
    if (typeof payload === 'string' && String(reply.getHeader('content-type')).startsWith(PROBLEM_CONTENT_TYPE)) {
      errors.inc({ code: (JSON.parse(payload) as { code: string }).code });
    }
    done(null, payload);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    // The route template, not the URL: label values stay few whatever the ids in paths.
    const route = request.routeOptions.url ?? 'unmatched';
    httpRequestDuration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
  setupSwagger(app);
  await app.init();
  await fastify.ready();
  return app;
}

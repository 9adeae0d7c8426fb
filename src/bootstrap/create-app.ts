import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { limitConnections } from '../common/http/connection-limits';
import { corsOptionsFor } from '../common/http/cors';
import { REQUEST_ID_HEADER, requestIdFor } from '../common/http/request-id';
import { useStrictUtf8Json } from '../common/http/strict-utf8-json';
import { PROBLEM_CONTENT_TYPE, toProblem } from '../common/problem/problem';
import { AppError } from '../common/errors/app-error';
import { Metrics } from '../metrics/metrics';
import { AppConfig } from '../config/app-config';
import { setupSwagger } from './swagger';

/** Path segments may carry a 255-character user id, percent-encoded (up to 3 bytes a character each). */
const MAX_PATH_SEGMENT_LENGTH = 2048;
/** Node checks header and request deadlines on an interval (30 s by default): a deadline is late by up to this. */
const MAX_TIMEOUT_CHECK_INTERVAL_MS = 1_000;

export function createFastifyAdapter(config: AppConfig, logger: Logger): FastifyAdapter {
  return new FastifyAdapter({
    loggerInstance: logger,
    bodyLimit: config.bodyLimitBytes,
    genReqId: requestIdFor,
    routerOptions: { maxParamLength: MAX_PATH_SEGMENT_LENGTH },
    frameworkErrors: sendRouterError,
    // Proxies close idle keep-alive sockets after ~60 s; staying above avoids resets on reuse.
    keepAliveTimeout: 72_000,
    // Bounds receiving a request (a stalled body gets 408), not sending the answer: streams and long turns go on.
    requestTimeout: config.http.requestTimeoutMs,
    connectionTimeout: config.http.connectionTimeoutMs,
    http: {
      headersTimeout: config.http.headersTimeoutMs,
      connectionsCheckingInterval: Math.min(MAX_TIMEOUT_CHECK_INTERVAL_MS, config.http.headersTimeoutMs),
    },
  });
}

/** The router refuses some URLs before any hook or filter runs: answer those as problems too. */
function sendRouterError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const detail =
    error.code === 'FST_ERR_BAD_URL'
      ? 'The request URL is malformed (invalid percent-encoding).'
      : `The request URL was refused: ${error.message}`;
  const { problem } = toProblem(new AppError('validation_failed', detail), String(request.id), request.url);
  void reply
    .status(problem.status)
    .header(REQUEST_ID_HEADER, request.id)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .send(problem);
}

/** Shared by main.ts and the e2e tests, so tests exercise production's edge (docs/architecture.md#the-http-edge). */
export async function configureApp(app: NestFastifyApplication): Promise<NestFastifyApplication> {
  const fastify = app.getHttpAdapter().getInstance();
  const config = app.get(AppConfig);
  limitConnections(fastify.server, config.http);
  if (config.corsOrigins.length > 0) app.enableCors(corsOptionsFor(config.corsOrigins));
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  const { httpRequestDuration, errors } = app.get(Metrics);
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    // Only error responses are read back, to count them by their stable code.
    if (
      reply.statusCode >= 400 &&
      typeof payload === 'string' &&
      String(reply.getHeader('content-type')).startsWith(PROBLEM_CONTENT_TYPE)
    ) {
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
  // JSON only (any other body type is a 415); Nest adds its form parser during init().
  fastify.removeContentTypeParser(['text/plain', 'application/x-www-form-urlencoded']);
  useStrictUtf8Json(fastify);
  await fastify.ready();
  return app;
}

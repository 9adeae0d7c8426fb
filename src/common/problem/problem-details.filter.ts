import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE, toProblem, type Problem } from './problem';

const WWW_AUTHENTICATE_REALM = 'Bearer realm="chat-service"';

/** The one place errors become HTTP responses: every error, ours or Fastify's, as problem+json. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const { problem, retryAfterSeconds } = toProblem(exception, String(request.id), request.url);

    logProblem(request, exception, problem);
    if (reply.sent) return;
    if (problem.status === 401) {
      // RFC 6750 §3: a presented but unusable token is `invalid_token`; no token gets the bare challenge.
      const challenge = request.headers.authorization
        ? `${WWW_AUTHENTICATE_REALM}, error="invalid_token"`
        : WWW_AUTHENTICATE_REALM;
      void reply.header('www-authenticate', challenge);
    }
    if (retryAfterSeconds !== undefined) void reply.header('retry-after', String(Math.ceil(retryAfterSeconds)));
    void reply.status(problem.status).header('content-type', PROBLEM_CONTENT_TYPE).send(problem);
  }
}

/**
 * Server-side failures are logged in full (cause included: the provider's or the driver's text) under
 * the request id the client was given; client errors are one line.
 */
export function logProblem(request: FastifyRequest, exception: unknown, problem: Problem): void {
  if (problem.status >= 500) {
    const cause = exception instanceof Error ? exception.cause : undefined;
    request.log.error({ err: exception, cause, code: problem.code }, 'request failed');
  } else request.log.info({ code: problem.code, status: problem.status }, 'request rejected');
}

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

/** 500 in full, 502/503/504 a warning naming the cause, client errors one info line. */
export function logProblem(request: FastifyRequest, exception: unknown, problem: Problem): void {
  const { code, status } = problem;
  if (status === 500) {
    const cause = exception instanceof Error ? exception.cause : undefined;
    request.log.error({ err: exception, cause, code }, 'request failed');
  } else if (status > 500) {
    request.log.warn({ code, status, reason: describeCause(exception) }, 'request failed: a dependency is unavailable');
  } else request.log.info({ code, status }, 'request rejected');
}

/** The provider's or driver's own words, when there are any, else ours. */
function describeCause(exception: unknown): string | undefined {
  if (!(exception instanceof Error)) return undefined;
  return exception.cause instanceof Error ? exception.cause.message : exception.message;
}

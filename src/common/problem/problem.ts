import { HttpException } from '@nestjs/common';
import { isDatabaseUnavailable } from '../errors/database-errors';
import { AppError } from '../errors/app-error';
import { codeForStatus, describeErrorCode, type ErrorCode } from '../errors/error-code';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
/** Problem types are documented per code; relative URIs resolve against the service's own origin. */
export const PROBLEM_TYPE_PREFIX = '/problems/';

/** An RFC 9457 problem object with the service's extension members. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: ErrorCode;
  request_id: string;
  errors?: { field: string; message: string }[];
  [extension: string]: unknown;
}

export interface ProblemResponse {
  problem: Problem;
  retryAfterSeconds?: number;
}

/** Fastify's own client errors, by their stable codes, mapped to ours. */
const FASTIFY_CODES: Record<string, { code: ErrorCode; detail: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'invalid_json', detail: 'The request body is not valid JSON.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: 'invalid_json',
    detail: 'The request body is empty, but Content-Type says application/json.',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'payload_too_large', detail: 'The request body exceeds the size limit.' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'unsupported_media_type',
    detail: 'Unsupported Content-Type: send application/json.',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: 'validation_failed',
    detail: 'Content-Length does not match the body.',
  },
};

/** Only our own details reach the client: anything else is a generic 500, so no stack, SQL or provider text leaks. */
export function toProblem(error: unknown, requestId: string, instance: string): ProblemResponse {
  const { code, detail, appError } = classify(error);
  const { status, title } = describeErrorCode(code);
  const standard = {
    type: `${PROBLEM_TYPE_PREFIX}${code}`,
    title,
    status,
    detail,
    instance,
    code,
    request_id: requestId,
  };
  // Extensions add members, never replace the standard ones (spread last); those stay first in the JSON.
  const problem: Problem = { ...standard, ...appError?.extensions, ...standard };
  if (appError?.errors) problem.errors = appError.errors;
  return { problem, retryAfterSeconds: appError?.retryAfterSeconds };
}

function classify(error: unknown): { code: ErrorCode; detail: string; appError?: AppError } {
  if (error instanceof AppError) {
    return { code: error.code, detail: error.detail, appError: error };
  }
  if (error instanceof HttpException) {
    const fastifyCode = (error.cause as { code?: unknown } | undefined)?.code;
    const known = typeof fastifyCode === 'string' ? FASTIFY_CODES[fastifyCode] : undefined;
    if (known) return known;
    const status = error.getStatus();
    const code = codeForStatus(status);
    return { code, detail: status < 500 ? error.message : describeErrorCode(code).title };
  }
  if (isDatabaseUnavailable(error)) {
    // Unreachable, or no pooled connection freed in time (the embedded database has one): retry, not 500.
    const appError = new AppError('database_unavailable', 'The database is unavailable or busy; try again shortly.', {
      retryAfterSeconds: 5,
    });
    return { code: appError.code, detail: appError.detail, appError };
  }
  return { code: 'internal_error', detail: 'An unexpected error occurred; it has been logged.' };
}

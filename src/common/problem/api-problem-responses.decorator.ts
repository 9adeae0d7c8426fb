import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { apiHeaders, type ApiResponseHeader } from '../http/api-headers';
import { PROBLEM_CONTENT_TYPE } from './problem';
import { ProblemDto } from './problem.dto';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input: see `errors` for each bad field.',
  401: 'Missing, malformed, expired or wrongly signed bearer token.',
  403: 'The token’s subject is not the `user_id` of the path.',
  404: 'No such conversation for this user (the same answer whether it does not exist or is not yours).',
  409: 'A turn of this conversation is running (`conversation_busy`), or the idempotency key is in flight.',
  413: 'The request body exceeds the size limit.',
  415: 'Send `Content-Type: application/json`.',
  422: 'The idempotency key was used with another body.',
  429: 'Rate limited: retry after `Retry-After` seconds.',
  500: 'Unexpected error; logged under `request_id`.',
  502: 'The model or a tool server failed.',
  503: 'The model is not configured or overloaded, or the database is unavailable.',
  504: 'The model timed out.',
};

/** Headers an error response of that status carries besides `x-request-id` (which every response has). */
const HEADERS: Record<number, ApiResponseHeader[]> = {
  409: ['Retry-After'],
  429: ['Retry-After', 'RateLimit', 'RateLimit-Policy'],
  503: ['Retry-After'],
};

export function ApiProblemResponses(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ProblemDto),
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: DESCRIPTIONS[status] ?? 'Error',
        ...(HEADERS[status] && { headers: apiHeaders(...HEADERS[status]) }),
        content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ProblemDto) } } },
      }),
    ),
  );
}

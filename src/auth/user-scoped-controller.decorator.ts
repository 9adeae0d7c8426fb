import { applyDecorators, Controller, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiParam, ApiTags } from '@nestjs/swagger';
import { BEARER_AUTH } from '../common/http/openapi-security';
import { ApiProblemResponses } from '../common/problem/api-problem-responses.decorator';
import { MAX_SUBJECT_LENGTH } from './auth-failure';
import { OwnershipGuard } from './ownership.guard';

/**
 * A controller under `/api/:user_id/...`: the bearer token is required (global guard) and must
 * belong to `user_id`; the shared error responses are documented once here. The OwnershipGuard
 * proves `user_id` equals the token's already validated `sub`, so handlers take the user from
 * `@CurrentUser()` and the path segment needs no validation pass of its own.
 */
export function UserScopedController(path: string, tag: string): ClassDecorator {
  return applyDecorators(
    Controller(`api/:user_id/${path}`),
    UseGuards(OwnershipGuard),
    ApiTags(tag),
    ApiBearerAuth(BEARER_AUTH),
    ApiParam({
      name: 'user_id',
      description: "The signed-in user: must equal the token's `sub`.",
      schema: { type: 'string', maxLength: MAX_SUBJECT_LENGTH },
    }),
    ApiProblemResponses(400, 401, 403, 500),
  );
}

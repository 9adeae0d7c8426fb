import { applyDecorators, Controller, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiParam, ApiTags } from '@nestjs/swagger';
import { BEARER_AUTH } from '../common/http/openapi-security';
import { ApiProblemResponses } from '../common/problem/api-problem-responses.decorator';
import { MAX_SUBJECT_LENGTH } from './auth-failure';
import { OwnershipGuard } from './ownership.guard';

/** `/api/:user_id/...`, owner only (OwnershipGuard), shared error responses: docs/architecture.md#authentication. */
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

import { applyDecorators, Controller, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { BEARER_AUTH } from '../bootstrap/swagger';
import { ApiProblemResponses } from '../common/problem/api-problem-responses.decorator';
import { OwnershipGuard } from './ownership.guard';

/**
 * A controller under `/api/:user_id/...`: the bearer token is required (global guard) and must
 * belong to `user_id`; the shared error responses are documented once here.
 */
export function UserScopedController(path: string, tag: string): ClassDecorator {
  return applyDecorators(
    Controller(`api/:user_id/${path}`),
    UseGuards(OwnershipGuard),
    ApiTags(tag),
    ApiBearerAuth(BEARER_AUTH),
    ApiProblemResponses(400, 401, 403, 500),
  );
}

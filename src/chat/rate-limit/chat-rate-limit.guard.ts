import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { AUTH_DETAILS } from '../../auth/auth-failure';
import type { AuthRequest } from '../../auth/auth-user';
import { AppError } from '../../common/errors/app-error';
import { ChatRateLimiter } from './chat-rate-limiter';
import {
  RATE_LIMIT_HEADER,
  RATE_LIMIT_POLICY_HEADER,
  formatRateLimit,
  formatRateLimitPolicy,
} from './rate-limit-headers';

/**
 * Spends one unit of the caller's chat budget. Put it after the JWT guard and OwnershipGuard, so
 * every authenticated, authorized request counts — one that later fails validation too — and
 * refused ones (401, 403) do not. The RateLimit headers go on every counted response, the 429 included.
 */
@Injectable()
export class ChatRateLimitGuard implements CanActivate {
  constructor(private readonly limiter: ChatRateLimiter) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const { user } = http.getRequest<AuthRequest>();
    if (!user) throw new AppError('unauthorized', AUTH_DETAILS.missing);

    const { policy } = this.limiter;
    const decision = await this.limiter.consume(user.userId);
    void http
      .getResponse<FastifyReply>()
      .header(RATE_LIMIT_POLICY_HEADER, formatRateLimitPolicy(policy))
      .header(RATE_LIMIT_HEADER, formatRateLimit(policy, decision));
    if (!decision.allowed) {
      const seconds = decision.resetSeconds;
      throw new AppError(
        'rate_limited',
        `Too many chat requests: at most ${policy.limit} a minute. Retry after ${seconds} second${seconds === 1 ? '' : 's'}.`,
        { retryAfterSeconds: seconds },
      );
    }
    return true;
  }
}

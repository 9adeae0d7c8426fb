import type { CanActivate, ExecutionContext } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { AUTH_DETAILS } from '../auth/auth-failure';
import type { AuthRequest } from '../auth/auth-user';
import { AppError } from '../common/errors/app-error';
import {
  RATE_LIMIT_HEADER,
  RATE_LIMIT_POLICY_HEADER,
  formatRateLimit,
  formatRateLimitPolicy,
} from './rate-limit-headers';
import type { RateLimiter } from './rate-limiter';

/** After the JWT guard and OwnershipGuard, so 401s and 403s spend nothing (docs/architecture.md#rate-limits). */
export abstract class RateLimitGuard implements CanActivate {
  /** `subject`: what is counted, as the 429's detail names it ("chat requests"). */
  protected constructor(
    private readonly limiter: RateLimiter,
    private readonly subject: string,
  ) {}

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
        `Too many ${this.subject}: at most ${policy.limit} a minute. Retry after ${seconds} second${seconds === 1 ? '' : 's'}.`,
        { retryAfterSeconds: seconds },
      );
    }
    return true;
  }
}

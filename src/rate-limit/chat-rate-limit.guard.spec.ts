import type { ExecutionContext } from '@nestjs/common';
import type { AuthRequest } from '../auth/auth-user';
import { AppError } from '../common/errors/app-error';
import { ChatRateLimitGuard } from './chat-rate-limit.guard';
import { ChatRateLimiter } from './chat-rate-limiter';
import type { RateLimitDecision } from './rate-limiter';

class FixedLimiter extends ChatRateLimiter {
  readonly policy = { name: 'chat', limit: 3, windowSeconds: 60 };
  readonly consumed: string[] = [];

  constructor(private readonly decision: RateLimitDecision) {
    super();
  }

  async consume(userId: string): Promise<RateLimitDecision> {
    this.consumed.push(userId);
    return this.decision;
  }
}

function httpContext(request: Partial<AuthRequest>) {
  const headers: Record<string, string> = {};
  const reply = {
    header(name: string, value: string) {
      headers[name] = value;
      return reply;
    },
  };
  const context = {
    switchToHttp: () => ({ getRequest: () => ({ headers: {}, ...request }), getResponse: () => reply }),
  } as unknown as ExecutionContext;
  return { context, headers };
}

const alice = { userId: 'alice', token: 't', claims: { sub: 'alice' } };

describe(ChatRateLimitGuard.name, () => {
  it("spends a unit of the authenticated user's budget and sets the RateLimit headers", async () => {
    const limiter = new FixedLimiter({ allowed: true, remaining: 2, resetSeconds: 60 });
    const { context, headers } = httpContext({ user: alice });

    await expect(new ChatRateLimitGuard(limiter).canActivate(context)).resolves.toBe(true);

    expect(limiter.consumed).toEqual(['alice']);
    expect(headers).toEqual({ 'RateLimit-Policy': '"chat";q=3;w=60', RateLimit: '"chat";r=2;t=60' });
  });

  it('refuses an exhausted budget with rate_limited, Retry-After seconds and the RateLimit headers', async () => {
    const { context, headers } = httpContext({ user: alice });
    const guard = new ChatRateLimitGuard(new FixedLimiter({ allowed: false, remaining: 0, resetSeconds: 42 }));

    const error = await guard.canActivate(context).catch((thrown: unknown) => thrown);

    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({
      code: 'rate_limited',
      retryAfterSeconds: 42,
      detail: 'Too many chat requests: at most 3 a minute. Retry after 42 seconds.',
    });
    expect(headers.RateLimit).toBe('"chat";r=0;t=42');
  });

  it('answers 401 without spending anything when no user was authenticated', async () => {
    const limiter = new FixedLimiter({ allowed: true, remaining: 2, resetSeconds: 60 });

    await expect(new ChatRateLimitGuard(limiter).canActivate(httpContext({}).context)).rejects.toMatchObject({
      code: 'unauthorized',
    });
    expect(limiter.consumed).toEqual([]);
  });
});

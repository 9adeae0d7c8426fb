/** A quota: at most `limit` requests per `windowSeconds`, for one partition (here: one user). */
export interface RateLimitPolicy {
  /** Names the policy in the RateLimit-Policy and RateLimit headers, and keys its budgets in the store. */
  name: string;
  limit: number;
  windowSeconds: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** Units left in the current window (0 once exhausted). */
  remaining: number;
  /** Whole seconds until the window resets, at least 1: the `t` of RateLimit and the Retry-After of a 429. */
  resetSeconds: number;
}

export const RATE_LIMIT_WINDOW_SECONDS = 60;

/** Behind a token so a test can swap the store; every call spends a unit, refused ones included. */
export abstract class RateLimiter {
  abstract readonly policy: RateLimitPolicy;
  abstract consume(userId: string): Promise<RateLimitDecision>;
}

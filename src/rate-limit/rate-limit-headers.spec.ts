import type { RateLimitPolicy } from './rate-limiter';
import { formatRateLimit, formatRateLimitPolicy } from './rate-limit-headers';

const chat: RateLimitPolicy = { name: 'chat', limit: 20, windowSeconds: 60 };

describe('rate-limit headers', () => {
  it("writes RateLimit-Policy as the draft's quoted policy name with q (quota) and w (window seconds)", () => {
    expect(formatRateLimitPolicy(chat)).toBe('"chat";q=20;w=60');
  });

  it('writes RateLimit as the policy name with r (remaining) and t (seconds to reset)', () => {
    expect(formatRateLimit(chat, { allowed: true, remaining: 17, resetSeconds: 42 })).toBe('"chat";r=17;t=42');
  });

  it('writes r=0 on an exhausted budget, so a client can tell it must wait t seconds', () => {
    expect(formatRateLimit(chat, { allowed: false, remaining: 0, resetSeconds: 9 })).toBe('"chat";r=0;t=9');
  });

  it('refuses a policy name that would need escaping, rather than send a malformed header', () => {
    expect(() => formatRateLimitPolicy({ ...chat, name: 'a "quoted" name' })).toThrow(/Invalid rate-limit policy name/);
  });
});

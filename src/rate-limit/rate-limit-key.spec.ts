import { RateLimiterMemory } from 'rate-limiter-flexible';
import { DEFAULT_RATE_LIMIT_NAMESPACE, rateLimitKeyPrefix } from './rate-limit-key';

describe('rate-limit keys', () => {
  it('namespaces keys by service and policy, so a shared Redis holds no look-alike keys', () => {
    expect(rateLimitKeyPrefix(DEFAULT_RATE_LIMIT_NAMESPACE, 'chat')).toBe('chat-service:rate-limit:chat');
  });

  it('stores a user under <namespace>:<policy>:<user id>, the id last so distinct ids never share a key', () => {
    const limiter = new RateLimiterMemory({ points: 1, duration: 60, keyPrefix: rateLimitKeyPrefix('ns', 'chat') });

    expect(limiter.getKey('user-1')).toBe('ns:chat:user-1');
    expect(limiter.getKey('a:b')).not.toBe(limiter.getKey('a'));
  });

  it('refuses an empty namespace or policy name, which would drop the prefix', () => {
    expect(() => rateLimitKeyPrefix('', 'chat')).toThrow(/namespace and policy name are required/);
    expect(() => rateLimitKeyPrefix('ns', '')).toThrow(/namespace and policy name are required/);
  });
});

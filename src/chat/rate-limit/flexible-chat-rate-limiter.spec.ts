import { loadConfig } from '../../config/app-config';
import { FlexibleChatRateLimiter } from './flexible-chat-rate-limiter';

function inMemoryLimiter(perMinute: number): FlexibleChatRateLimiter {
  const config = loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: 'unit-test-secret',
    CHAT_RATE_LIMIT_PER_MINUTE: String(perMinute),
  });
  return new FlexibleChatRateLimiter(config, 'unit-test');
}

describe(FlexibleChatRateLimiter.name, () => {
  it('describes its policy as the configured number of requests per 60 s, named "chat"', () => {
    expect(inMemoryLimiter(7).policy).toEqual({ name: 'chat', limit: 7, windowSeconds: 60 });
  });

  it('allows the configured number of requests a minute, counting down, then refuses', async () => {
    const limiter = inMemoryLimiter(2);

    const decisions = [await limiter.consume('u'), await limiter.consume('u'), await limiter.consume('u')];

    expect(decisions.map(({ allowed, remaining }) => ({ allowed, remaining }))).toEqual([
      { allowed: true, remaining: 1 },
      { allowed: true, remaining: 0 },
      { allowed: false, remaining: 0 },
    ]);
  });

  it('reports the reset in whole seconds within the 60 s window', async () => {
    const { resetSeconds } = await inMemoryLimiter(1).consume('u');

    expect(resetSeconds).toBeGreaterThanOrEqual(1);
    expect(resetSeconds).toBeLessThanOrEqual(60);
  });

  it('keeps a separate budget per user', async () => {
    const limiter = inMemoryLimiter(1);
    await limiter.consume('alice');

    expect((await limiter.consume('alice')).allowed).toBe(false);
    expect((await limiter.consume('bob')).allowed).toBe(true);
  });
});

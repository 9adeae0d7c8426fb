import { loadConfig } from '../config/app-config';
import { RateLimitStore } from './rate-limit-store';
import type { RateLimiter } from './rate-limiter';

function inMemoryLimiter(perMinute: number, name = 'chat'): RateLimiter {
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'unit-test-secret' });
  return new RateLimitStore(config, 'unit-test').limiterFor({ name, limit: perMinute, windowSeconds: 60 });
}

describe(RateLimitStore.name, () => {
  it('gives a limiter that describes its policy', () => {
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

  it('keeps a separate budget per policy of one store', async () => {
    const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'unit-test-secret' });
    const store = new RateLimitStore(config, 'unit-test');
    const chat = store.limiterFor({ name: 'chat', limit: 1, windowSeconds: 60 });
    const mcp = store.limiterFor({ name: 'mcp', limit: 1, windowSeconds: 60 });
    await chat.consume('alice');

    expect((await mcp.consume('alice')).allowed).toBe(true);
  });
});

import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type IRateLimiterOptions,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { AppConfig } from '../config/app-config';
import { RATE_LIMIT_NAMESPACE, rateLimitKeyPrefix } from './rate-limit-key';
import { RateLimitRedisConnection } from './rate-limit-redis-connection';
import { RateLimiter, type RateLimitDecision, type RateLimitPolicy } from './rate-limiter';

/** Redis when REDIS_URL is set, else in process; an insurance limiter while Redis fails (docs/architecture.md). */
@Injectable()
export class RateLimitStore implements OnModuleInit, OnApplicationShutdown {
  private readonly redis?: RateLimitRedisConnection;

  constructor(
    config: AppConfig,
    @Inject(RATE_LIMIT_NAMESPACE) private readonly namespace: string,
  ) {
    if (config.redisUrl) {
      this.redis = new RateLimitRedisConnection(config.redisUrl, new Logger(RateLimitStore.name));
    }
  }

  async onModuleInit(): Promise<void> {
    await this.redis?.open();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis?.close();
  }

  limiterFor(policy: RateLimitPolicy): RateLimiter {
    const options: IRateLimiterOptions = {
      points: policy.limit,
      duration: policy.windowSeconds,
      keyPrefix: rateLimitKeyPrefix(this.namespace, policy.name),
    };
    const store = this.redis
      ? new RateLimiterRedis({
          ...options,
          storeClient: this.redis.client,
          // Not connected: go straight to the insurance limiter instead of trying the socket.
          rejectIfRedisNotReady: true,
          insuranceLimiter: new RateLimiterMemory(options),
        })
      : new RateLimiterMemory(options);
    return new FlexibleRateLimiter(policy, store);
  }
}

class FlexibleRateLimiter extends RateLimiter {
  constructor(
    readonly policy: RateLimitPolicy,
    private readonly store: RateLimiterAbstract,
  ) {
    super();
  }

  async consume(userId: string): Promise<RateLimitDecision> {
    try {
      return toDecision(true, await this.store.consume(userId));
    } catch (rejection) {
      // The library rejects with a RateLimiterRes when the budget is spent; anything else is a fault.
      if (rejection instanceof RateLimiterRes) return toDecision(false, rejection);
      throw rejection;
    }
  }
}

function toDecision(allowed: boolean, result: RateLimiterRes): RateLimitDecision {
  return {
    allowed,
    remaining: Math.max(0, result.remainingPoints),
    resetSeconds: Math.max(1, Math.ceil(result.msBeforeNext / 1000)),
  };
}

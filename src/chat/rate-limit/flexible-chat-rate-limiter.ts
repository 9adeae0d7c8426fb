import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type IRateLimiterOptions,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { AppConfig } from '../../config/app-config';
import {
  CHAT_RATE_LIMIT_POLICY_NAME,
  CHAT_RATE_LIMIT_WINDOW_SECONDS,
  ChatRateLimiter,
  type RateLimitDecision,
  type RateLimitPolicy,
} from './chat-rate-limiter';
import { RATE_LIMIT_NAMESPACE, rateLimitKeyPrefix } from './rate-limit-key';
import { RateLimitRedisConnection } from './rate-limit-redis-connection';

/**
 * The chat budget over rate-limiter-flexible: in Redis when REDIS_URL is set, so every replica spends
 * from one budget per user; in process otherwise. When Redis fails, an in-memory insurance limiter
 * answers, so requests are still served and limited, per replica, until Redis is back.
 */
@Injectable()
export class FlexibleChatRateLimiter extends ChatRateLimiter implements OnModuleInit, OnApplicationShutdown {
  readonly policy: RateLimitPolicy;
  private readonly limiter: RateLimiterAbstract;
  private readonly redis?: RateLimitRedisConnection;

  constructor(config: AppConfig, @Inject(RATE_LIMIT_NAMESPACE) namespace: string) {
    super();
    this.policy = {
      name: CHAT_RATE_LIMIT_POLICY_NAME,
      limit: config.chat.rateLimitPerMinute,
      windowSeconds: CHAT_RATE_LIMIT_WINDOW_SECONDS,
    };
    const options: IRateLimiterOptions = {
      points: this.policy.limit,
      duration: this.policy.windowSeconds,
      keyPrefix: rateLimitKeyPrefix(namespace, this.policy.name),
    };
    if (config.redisUrl) {
      this.redis = new RateLimitRedisConnection(config.redisUrl, new Logger(FlexibleChatRateLimiter.name));
      this.limiter = new RateLimiterRedis({
        ...options,
        storeClient: this.redis.client,
        // Not connected: go straight to the insurance limiter instead of trying the socket.
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory(options),
      });
    } else {
      this.limiter = new RateLimiterMemory(options);
    }
  }

  async onModuleInit(): Promise<void> {
    await this.redis?.open();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis?.close();
  }

  async consume(userId: string): Promise<RateLimitDecision> {
    try {
      return toDecision(true, await this.limiter.consume(userId));
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

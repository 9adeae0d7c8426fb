import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { CHAT_RATE_LIMIT_POLICY_NAME, ChatRateLimiter } from './chat-rate-limiter';
import { MCP_RATE_LIMIT_POLICY_NAME, McpRateLimiter } from './mcp-rate-limiter';
import { DEFAULT_RATE_LIMIT_NAMESPACE, RATE_LIMIT_NAMESPACE } from './rate-limit-key';
import { RateLimitStore } from './rate-limit-store';
import { RATE_LIMIT_WINDOW_SECONDS } from './rate-limiter';

/**
 * The per-user budgets (chat, `/mcp`), in one store. Import it where `@UseGuards(ChatRateLimitGuard)` or
 * `McpRateLimitGuard` is used: Nest builds the guard in the controller's module, from the limiters
 * exported here (one module instance, so one store and one Redis connection, per application).
 */
@Module({
  providers: [
    { provide: RATE_LIMIT_NAMESPACE, useValue: DEFAULT_RATE_LIMIT_NAMESPACE },
    RateLimitStore,
    {
      provide: ChatRateLimiter,
      inject: [RateLimitStore, AppConfig],
      useFactory: (store: RateLimitStore, config: AppConfig) =>
        store.limiterFor({
          name: CHAT_RATE_LIMIT_POLICY_NAME,
          limit: config.chat.rateLimitPerMinute,
          windowSeconds: RATE_LIMIT_WINDOW_SECONDS,
        }),
    },
    {
      provide: McpRateLimiter,
      inject: [RateLimitStore, AppConfig],
      useFactory: (store: RateLimitStore, config: AppConfig) =>
        store.limiterFor({
          name: MCP_RATE_LIMIT_POLICY_NAME,
          limit: config.mcpRateLimitPerMinute,
          windowSeconds: RATE_LIMIT_WINDOW_SECONDS,
        }),
    },
  ],
  exports: [ChatRateLimiter, McpRateLimiter],
})
export class RateLimitModule {}

import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { CHAT_RATE_LIMIT_POLICY_NAME, ChatRateLimiter } from './chat-rate-limiter';
import { MCP_RATE_LIMIT_POLICY_NAME, McpRateLimiter } from './mcp-rate-limiter';
import { DEFAULT_RATE_LIMIT_NAMESPACE, RATE_LIMIT_NAMESPACE } from './rate-limit-key';
import { RateLimitStore } from './rate-limit-store';
import { RATE_LIMIT_WINDOW_SECONDS } from './rate-limiter';

/** Import it where its guards are used: Nest builds a guard in the controller's module, from these exports. */
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

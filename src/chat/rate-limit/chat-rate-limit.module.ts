import { Module } from '@nestjs/common';
import { ChatRateLimiter } from './chat-rate-limiter';
import { FlexibleChatRateLimiter } from './flexible-chat-rate-limiter';
import { DEFAULT_RATE_LIMIT_NAMESPACE, RATE_LIMIT_NAMESPACE } from './rate-limit-key';

/**
 * The per-user chat budget. Import it where `@UseGuards(ChatRateLimitGuard)` is used: Nest builds the
 * guard in the controller's module, from the limiter exported here (one per application).
 */
@Module({
  providers: [
    { provide: RATE_LIMIT_NAMESPACE, useValue: DEFAULT_RATE_LIMIT_NAMESPACE },
    { provide: ChatRateLimiter, useClass: FlexibleChatRateLimiter },
  ],
  exports: [ChatRateLimiter],
})
export class ChatRateLimitModule {}

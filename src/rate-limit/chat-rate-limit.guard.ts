import { Injectable } from '@nestjs/common';
import { ChatRateLimiter } from './chat-rate-limiter';
import { RateLimitGuard } from './rate-limit.guard';

/** The chat budget on `POST .../chat`, after the JWT guard and OwnershipGuard. */
@Injectable()
export class ChatRateLimitGuard extends RateLimitGuard {
  constructor(limiter: ChatRateLimiter) {
    super(limiter, 'chat requests');
  }
}

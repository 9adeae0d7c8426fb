import { RateLimiter } from './rate-limiter';

export const CHAT_RATE_LIMIT_POLICY_NAME = 'chat';

/** The per-user budget of chat requests (SPEC §6): `CHAT_RATE_LIMIT_PER_MINUTE`. */
export abstract class ChatRateLimiter extends RateLimiter {}

import type { LoggerService } from '@nestjs/common';
import { Redis } from 'ioredis';

const CONNECT_TIMEOUT_MS = 2_000;
/** Redis answers in well under a millisecond; one that hangs longer is treated as down for that request. */
const COMMAND_TIMEOUT_MS = 500;

/** Fails fast while Redis is away, so the insurance limiter answers (docs/architecture.md#rate-limits). */
export class RateLimitRedisConnection {
  readonly client: Redis;
  /** Unset until the first connection attempt settles. */
  private reachable?: boolean;
  private closing = false;

  constructor(
    url: string,
    private readonly logger: LoggerService,
  ) {
    this.client = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      connectTimeout: CONNECT_TIMEOUT_MS,
      commandTimeout: COMMAND_TIMEOUT_MS,
      // A command caught by a dropped connection fails at once, not after a reconnect that would also resend it.
      maxRetriesPerRequest: 0,
    });
    // Without an 'error' listener ioredis prints every failed reconnect attempt to stderr.
    this.client.on('error', (error: Error) => this.markUnreachable(error.message));
    this.client.on('close', () => this.markUnreachable('connection closed'));
    this.client.on('ready', () => this.markReachable());
  }

  /** Connects before requests are served, so the first ones are shared too; an unreachable Redis is not fatal. */
  async open(): Promise<void> {
    await this.client.connect().catch(() => undefined); // reported through the 'error' event
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.client.status === 'ready') await this.client.quit().catch(() => this.client.disconnect());
    else this.client.disconnect();
  }

  private markReachable(): void {
    this.logger.log(
      this.reachable === false
        ? 'Redis is reachable again: rate limits are shared across replicas'
        : 'Rate limits are kept in Redis, shared across replicas',
    );
    this.reachable = true;
  }

  private markUnreachable(reason: string): void {
    if (this.closing || this.reachable === false) return;
    this.reachable = false;
    this.logger.warn(
      `Redis for rate limits is unreachable (${reason}): requests are limited in process, per replica, until it is back`,
    );
  }
}

import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { TurnEventRepository } from './turn-event.repository';

/** A sweep at least every minute, and often enough that a short TTL (tests, demos) is kept to. */
const MAX_SWEEP_INTERVAL_MS = 60_000;

/** Deletes the logs of turns that ended more than CHAT_TURN_EVENTS_TTL ago; every replica sweeps (idempotent). */
@Injectable()
export class TurnEventsExpiry implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(TurnEventsExpiry.name);
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;

  constructor(
    private readonly log: TurnEventRepository,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const { turnEventsTtlMs } = this.config.chat;
    const intervalMs = Math.min(MAX_SWEEP_INTERVAL_MS, Math.max(50, Math.floor(turnEventsTtlMs / 2)));
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep().finally(() => (this.sweeping = undefined));
    }, intervalMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  private async sweep(): Promise<void> {
    try {
      const deleted = await this.log.expire(this.config.chat.turnEventsTtlMs);
      if (deleted > 0) this.logger.debug(`deleted ${deleted} expired turn event(s)`);
    } catch (error) {
      this.logger.warn(`could not expire turn events: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { PeriodicTask, sweepIntervalFor } from '../../common/lifecycle/periodic-task';
import { AppConfig } from '../../config/app-config';
import { TurnEventRepository } from './turn-event.repository';

/** Deletes the logs of turns that ended more than CHAT_TURN_EVENTS_TTL ago; every replica sweeps (idempotent). */
@Injectable()
export class TurnEventsExpiry implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(TurnEventsExpiry.name);
  private readonly sweeps = new PeriodicTask(() => this.sweep());

  constructor(
    private readonly log: TurnEventRepository,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.sweeps.start(sweepIntervalFor(this.config.chat.turnEventsTtlMs));
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.sweeps.stop();
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

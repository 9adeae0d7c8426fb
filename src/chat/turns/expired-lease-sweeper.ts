import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { PeriodicTask } from '../../common/lifecycle/periodic-task';
import { AppConfig } from '../../config/app-config';
import { ConversationRepository } from '../repositories/conversation.repository';
import { InterruptedTurns } from '../turn-events/interrupted-turns';

/** SPEC §6: every replica sweeps (the statement is idempotent) at half the lease TTL. */
@Injectable()
export class ExpiredLeaseSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ExpiredLeaseSweeper.name);
  private readonly sweeps = new PeriodicTask(() => this.sweep());

  constructor(
    private readonly conversations: ConversationRepository,
    private readonly interruptedTurns: InterruptedTurns,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.sweeps.start(Math.floor(this.config.chat.leaseTtlMs / 2));
  }

  /** Before the database closes: no new sweep, and the running one finished. */
  beforeApplicationShutdown(): Promise<void> {
    return this.sweeps.stop();
  }

  private async sweep(): Promise<void> {
    try {
      const interrupted = await this.conversations.failExpiredTurns();
      if (interrupted.length === 0) return;
      this.logger.warn(`marked ${interrupted.length} message(s) of expired turns as turn_interrupted`);
      await this.interruptedTurns.seal(interrupted);
    } catch (error) {
      this.logger.warn(
        `could not sweep expired turn leases: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}

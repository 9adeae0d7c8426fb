import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { PeriodicTask, sweepIntervalFor } from '../../common/lifecycle/periodic-task';
import { AppConfig } from '../../config/app-config';
import { ApprovalRepository } from './approval.repository';
import { ApprovalsService } from './approvals.service';

/** Paused turns closed per sweep: the next sweep takes the rest. */
const SWEEP_BATCH = 100;

/**
 * Closes the pauses whose approvals expired (CHAT_APPROVAL_TTL) as if cancelled — nothing runs, the waiting
 * calls are stored denied — so their conversations take messages again. Every replica sweeps: the close
 * locks the conversation and checks again, so two sweepers close a pause once.
 */
@Injectable()
export class ApprovalExpiry implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ApprovalExpiry.name);
  private readonly sweeps = new PeriodicTask(() => this.sweep());

  constructor(
    private readonly approvals: ApprovalRepository,
    private readonly service: ApprovalsService,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.sweeps.start(sweepIntervalFor(this.config.chat.approvalTtlMs));
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.sweeps.stop();
  }

  private async sweep(): Promise<void> {
    const pauses = await this.approvals.expiredPauses(SWEEP_BATCH).catch((error: unknown) => {
      this.logger.warn({ err: error }, 'could not look for expired approvals');
      return [];
    });
    for (const { userId, conversationId } of pauses) {
      // No request and no token: a close runs no tool and calls no model.
      const user = { userId, token: '', claims: {} };
      const instance = `/api/${encodeURIComponent(userId)}/chat/${conversationId}/approvals`;
      await this.service
        .close(user, conversationId, 'expired', { requestId: randomUUID(), instance })
        .catch((error: unknown) =>
          this.logger.warn({ err: error }, `could not expire the approvals of ${conversationId}`),
        );
    }
  }
}

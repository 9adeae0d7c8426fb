import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../../config/app-config';
import { ApprovalRepository } from './approval.repository';
import { ApprovalsService } from './approvals.service';

/** A sweep at least every minute, and often enough that a short TTL (tests, demos) is kept to. */
const MAX_SWEEP_INTERVAL_MS = 60_000;
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
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;

  constructor(
    private readonly approvals: ApprovalRepository,
    private readonly service: ApprovalsService,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const { approvalTtlMs } = this.config.chat;
    const intervalMs = Math.min(MAX_SWEEP_INTERVAL_MS, Math.max(50, Math.floor(approvalTtlMs / 2)));
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

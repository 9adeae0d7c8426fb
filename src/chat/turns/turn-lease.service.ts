import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../../config/app-config';
import { Metrics } from '../../metrics/metrics';
import { conversationBusy, conversationLimitReached, conversationNotFound } from '../chat.errors';
import { ConversationRepository } from '../repositories/conversation.repository';
import { InterruptedTurns } from '../turn-events/interrupted-turns';
import { TurnCancellation } from './turn-cancellation';

const FIRST_POLL_MS = 20;
const MAX_POLL_MS = 250;
/** `interrupt` waits at least this long for the cancelled turn to store what it had, whatever CHAT_BUSY_WAIT_MS. */
const INTERRUPT_WAIT_MS = 5_000;

/** SPEC §5.2: what a message does when a turn of its conversation is running. */
export const BUSY_POLICIES = ['wait', 'reject', 'interrupt'] as const;
export type BusyPolicy = (typeof BUSY_POLICIES)[number];

/** SPEC §5.3: the conversation's last turn waits for the user's decision, so it takes no message (no wait). */
export class AwaitingApproval extends Error {
  constructor(
    readonly userId: string,
    readonly conversationId: string,
    readonly turnId: string,
  ) {
    super(`turn ${turnId} of conversation ${conversationId} waits for approval`);
  }
}

/** A held lease: renewed in the background while the turn runs, released when it ends. */
export class TurnLease {
  private readonly heartbeat: NodeJS.Timeout;
  private cancelListener?: () => void;

  constructor(
    readonly conversationId: string,
    readonly owner: string,
    private readonly conversations: ConversationRepository,
    ttlMs: number,
    logger: Logger,
  ) {
    // Renewing at a third of the TTL leaves two chances before a live turn could lose its lease.
    this.heartbeat = setInterval(
      () => {
        this.conversations.renewLease(conversationId, owner, ttlMs).then(
          ({ held, cancelRequested }) => {
            if (!held) logger.warn(`lost the turn lease of conversation ${conversationId}`);
            if (cancelRequested) this.cancelListener?.();
          },
          (error: unknown) => logger.warn({ err: error }, 'could not renew a turn lease'),
        );
      },
      Math.floor(ttlMs / 3),
    );
    this.heartbeat.unref();
  }

  /** The renewal's answer is the fallback by which a turn learns it was cancelled. */
  onCancelRequested(listener: () => void): void {
    this.cancelListener = listener;
  }

  /** The turn was stored, which released the lease in the same statement: only stop renewing. */
  released(): void {
    clearInterval(this.heartbeat);
  }

  async release(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.conversations.releaseLease(this.conversationId, this.owner);
  }
}

/** One turn at a time per conversation, across replicas: an expiring lease on the conversation row. */
@Injectable()
export class TurnLeaseService {
  private readonly logger = new Logger(TurnLeaseService.name);

  constructor(
    private readonly conversations: ConversationRepository,
    private readonly interruptedTurns: InterruptedTurns,
    private readonly cancellation: TurnCancellation,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  /** A new conversation, its first message stored pending, and its lease held; 409 past the user's cap. */
  async startConversation(
    userId: string,
    title: string,
    firstMessage: string,
  ): Promise<{ lease: TurnLease; userMessage: { id: string; seq: number } }> {
    const owner = randomUUID();
    const messageId = randomUUID();
    const { leaseTtlMs, maxConversationsPerUser } = this.config.chat;
    const created = await this.metrics.timeDatabase('start_conversation', () =>
      this.conversations.createWithFirstMessage(
        userId,
        title,
        firstMessage,
        { owner, ttlMs: leaseTtlMs, messageId },
        maxConversationsPerUser,
      ),
    );
    if (!created) throw conversationLimitReached(maxConversationsPerUser);
    return {
      lease: this.hold(created.conversationId, owner),
      userMessage: { id: created.messageId, seq: created.seq },
    };
  }

  /** The lease and the message stored pending; while another turn holds it, what `onBusy` says. */
  async acquire(
    userId: string,
    conversationId: string,
    message: string,
    onBusy: BusyPolicy = 'wait',
  ): Promise<{ lease: TurnLease; userMessage: { id: string; seq: number } }> {
    const lease = { owner: randomUUID(), ttlMs: this.config.chat.leaseTtlMs, messageId: randomUUID() };
    const { busyWaitMs } = this.config.chat;
    const waitMs = { wait: busyWaitMs, reject: 0, interrupt: Math.max(busyWaitMs, INTERRUPT_WAIT_MS) }[onBusy];
    const deadline = Date.now() + waitMs;
    for (let pollMs = FIRST_POLL_MS; ; pollMs = Math.min(MAX_POLL_MS, pollMs * 1.5)) {
      // Each attempt is timed alone: the waits between attempts are not database latency.
      const attempt = await this.metrics.timeDatabase('acquire_lease_and_append', () =>
        this.conversations.acquireLeaseAndAppend(userId, conversationId, lease, message),
      );
      if (attempt.state === 'not_found') throw conversationNotFound(conversationId);
      if (attempt.state === 'awaiting_approval') throw new AwaitingApproval(userId, conversationId, attempt.turnId);
      if (attempt.state === 'acquired') {
        if (attempt.interrupted.length > 0) {
          this.logger.warn(`marked ${attempt.interrupted.length} message(s) of a dead turn as turn_interrupted`);
          await this.interruptedTurns.seal(attempt.interrupted);
        }
        return {
          lease: this.hold(conversationId, lease.owner),
          userMessage: { id: attempt.messageId, seq: attempt.seq },
        };
      }
      // Every attempt asks again: a second interrupting sender may have started a turn since.
      if (onBusy === 'interrupt') await this.cancellation.requestRunning(userId, conversationId);
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) throw conversationBusy();
      // Jitter keeps waiting requests from polling in lockstep.
      await sleep(Math.min(remainingMs, pollMs * (0.5 + Math.random())));
    }
  }

  /** A lease taken by another statement (a paused turn's resume takes it with the decisions). */
  hold(conversationId: string, owner: string): TurnLease {
    return new TurnLease(conversationId, owner, this.conversations, this.config.chat.leaseTtlMs, this.logger);
  }
}

import { Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { DatabaseNotifications } from '../../database/database-notifications';
import { turnNotFound, turnNotRunning } from '../chat.errors';
import { ConversationRepository } from '../repositories/conversation.repository';
import { MessageRepository } from '../repositories/message.repository';
import { TURN_CANCEL_CHANNEL, type TurnRef } from '../turn-events/turn-event';

/** Without LISTEN, how often this replica asks whether its running turns were cancelled (SPEC: within 1 s). */
const CANCEL_POLL_MS = 500;
/** With LISTEN, the same question less often: a notification lost while the connection was down. */
const CANCEL_SAFETY_POLL_MS = 2_000;

/**
 * Cancel requests (SPEC §5.2): stored on the conversation, then heard by the replica running the turn —
 * at once when it is this one, by notification from another, or by polling (and lease renewal) without LISTEN.
 */
@Injectable()
export class TurnCancellation implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly running = new Map<string, { ref: TurnRef; controller: AbortController }>();
  private pollTimer?: NodeJS.Timeout;

  constructor(
    private readonly conversations: ConversationRepository,
    private readonly messages: MessageRepository,
    private readonly notifications: DatabaseNotifications,
  ) {
    notifications.on(TURN_CANCEL_CHANNEL, (turnId) => this.abortLocal(turnId));
    notifications.onReconnect(() => void this.poll());
  }

  onApplicationBootstrap(): void {
    const { mode } = this.notifications;
    if (mode === 'local') return;
    this.pollTimer = setInterval(() => void this.poll(), mode === 'poll' ? CANCEL_POLL_MS : CANCEL_SAFETY_POLL_MS);
    this.pollTimer.unref();
  }

  beforeApplicationShutdown(): void {
    clearInterval(this.pollTimer);
  }

  /** A turn starting on this replica: its signal fires when someone cancels it. Call `release` when it ends. */
  register(ref: TurnRef): { signal: AbortSignal; cancel: () => void; release: () => void } {
    const controller = new AbortController();
    this.running.set(ref.turnId, { ref, controller });
    return {
      signal: controller.signal,
      cancel: () => controller.abort(),
      release: () => this.running.delete(ref.turnId),
    };
  }

  /** 409 when the turn already ended, 404 when it is not the user's. */
  async request(ref: TurnRef): Promise<void> {
    const cancelled = await this.conversations.requestCancel(ref.userId, ref.conversationId, ref.turnId);
    if (cancelled) {
      this.abortLocal(cancelled);
      return;
    }
    if (await this.messages.findTurn(ref)) throw turnNotRunning(ref.turnId);
    throw turnNotFound(ref.turnId);
  }

  /** `on_busy: "interrupt"`: whichever turn of the conversation runs is asked to stop. */
  async requestRunning(userId: string, conversationId: string): Promise<void> {
    const cancelled = await this.conversations.requestCancel(userId, conversationId);
    if (cancelled) this.abortLocal(cancelled);
  }

  private abortLocal(turnId: string): void {
    this.running.get(turnId)?.controller.abort();
  }

  private async poll(): Promise<void> {
    const refs = [...this.running.values()].map((turn) => turn.ref);
    if (refs.length === 0) return;
    const cancelled = await this.conversations.cancelRequested(refs).catch(() => []);
    for (const turnId of cancelled) this.abortLocal(turnId);
  }
}

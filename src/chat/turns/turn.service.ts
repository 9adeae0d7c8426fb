import { Injectable, Logger } from '@nestjs/common';
import type { AgentEvent } from '../../agent/agent-turn';
import { toProblem } from '../../common/problem/problem';
import { AppConfig } from '../../config/app-config';
import { AgentService } from '../../agent/agent.service';
import { CONTEXT_ROW_LIMIT } from '../../agent/context/context-window';
import type { AuthUser } from '../../auth/auth-user';
import { Metrics } from '../../metrics/metrics';
import {
  approvalPending,
  conversationNotFound,
  modelNotConfigured,
  toTurnFailure,
  turnFailed,
  turnInterrupted,
} from '../chat.errors';
import { toChatTurnDto } from '../chat.mapper';
import { titleFromMessage } from '../conversation-title';
import type { ChatTurnDto } from '../dto/chat-turn.dto';
import { storedToolCalls, toPendingApprovalDtos } from '../approvals/paused-tool-calls';
import { PausedTurns } from '../approvals/paused-turns';
import { IdempotencyService } from '../idempotency/idempotency.service';
import { ConversationRepository } from '../repositories/conversation.repository';
import { MessageRepository } from '../repositories/message.repository';
import type { TurnRef } from '../turn-events/turn-event';
import type { TurnEventWriter } from '../turn-events/turn-event-writer';
import { TurnEvents } from '../turn-events/turn-events.service';
import { RunningTurns } from './running-turns';
import {
  StartedTurn,
  type AttachedTurn,
  type HeldTurn,
  type ReplayedTurn,
  type SendMessageCommand,
  type TurnRunner,
} from './started-turn';
import { TurnCancellation } from './turn-cancellation';
import { AwaitingApproval, TurnLeaseService } from './turn-lease.service';

@Injectable()
export class TurnService implements TurnRunner {
  private readonly logger = new Logger(TurnService.name);

  constructor(
    private readonly conversations: ConversationRepository,
    private readonly messages: MessageRepository,
    private readonly agent: AgentService,
    private readonly leases: TurnLeaseService,
    private readonly idempotency: IdempotencyService,
    private readonly runningTurns: RunningTurns,
    private readonly turnEvents: TurnEvents,
    private readonly cancellation: TurnCancellation,
    private readonly pausedTurns: PausedTurns,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  /** Every refusal happens here, before anything is streamed; the user's message is stored before the model is called. */
  async start(user: AuthUser, command: SendMessageCommand): Promise<StartedTurn | ReplayedTurn | AttachedTurn> {
    this.runningTurns.assertAccepting();
    if (command.resumeAfter !== undefined) {
      const { conversationId, message } = command;
      const withinMs = this.config.chat.turnEventsTtlMs;
      const ref = await this.messages.findReconnectTurn(user.userId, conversationId, message, withinMs);
      if (ref) return { kind: 'attached', ref, after: command.resumeAfter };
    }
    if (!this.agent.configured) {
      // Ownership first: a foreign conversation is a 404 whatever the model's state.
      if (command.conversationId && !(await this.conversations.findForUser(user.userId, command.conversationId))) {
        throw conversationNotFound(command.conversationId);
      }
      throw modelNotConfigured();
    }
    const { idempotencyKey } = command;
    if (idempotencyKey) {
      const request = { message: command.message, conversation_id: command.conversationId ?? null };
      const claim = await this.idempotency.begin(user.userId, idempotencyKey, request);
      if (claim.kind === 'replay') return replayed(user.userId, claim.response as ChatTurnDto, command.resumeAfter);
    }
    // The lease and the message are taken in one statement: a refusal holds neither, only the key.
    const { conversationId } = command;
    const { lease, userMessage } = await (
      conversationId
        ? this.acquire(user, conversationId, command)
        : this.leases.startConversation(user.userId, titleFromMessage(command.message), command.message)
    ).catch(async (error: unknown) => {
      if (idempotencyKey) {
        await this.idempotency
          .release(user.userId, idempotencyKey)
          .catch((cleanupError: unknown) =>
            this.logger.error({ err: cleanupError }, 'could not release a refused key'),
          );
      }
      throw error;
    });
    const ref = { userId: user.userId, conversationId: lease.conversationId, turnId: userMessage.id };
    return new StartedTurn(this, { user, command, lease, userMessage, ref });
  }

  /**
   * 409 `approval_pending` at once while a turn of the conversation waits for approval (SPEC §5.3), unless all
   * its approvals expired: then that pause is closed first (stored as cancelled) and the message goes on.
   */
  private async acquire(
    user: AuthUser,
    conversationId: string,
    command: SendMessageCommand,
    closeExpired = true,
  ): Promise<Awaited<ReturnType<TurnLeaseService['acquire']>>> {
    try {
      return await this.leases.acquire(user.userId, conversationId, command.message, command.onBusy);
    } catch (error) {
      if (!(error instanceof AwaitingApproval)) throw error;
      const closed = closeExpired && (await this.pausedTurns.close(user, conversationId, 'expired', command.origin));
      if (!closed) throw approvalPending(await this.pausedTurns.pendingApprovalIds(user.userId, conversationId));
      // Its own failure is logged by the turn; the message then meets whatever state it left.
      await this.run(closed).catch(() => undefined);
      return this.acquire(user, conversationId, command, false);
    }
  }

  run(turn: HeldTurn): Promise<ChatTurnDto> {
    return this.runningTurns.track((signal) => this.execute(turn, signal));
  }

  async abandon(turn: HeldTurn): Promise<void> {
    this.logger.warn(`a started turn of conversation ${turn.lease.conversationId} was never run; released`);
    await this.recordFailure(turn, 'turn_interrupted');
    await this.releaseLease(turn);
  }

  private async execute(turn: HeldTurn, signal: AbortSignal): Promise<ChatTurnDto> {
    const { user, command, lease, userMessage, ref, resume } = turn;
    const { conversationId } = lease;
    const stopTimer = this.metrics.turnDuration.startTimer();
    const events = this.turnEvents.writer(ref, resume?.eventsAfter ?? 0);
    events.publish('turn.started', {
      turn_id: ref.turnId,
      conversation_id: conversationId,
      user_message_id: ref.turnId,
    });
    const cancellation = this.cancellation.register(ref);
    lease.onCancelRequested(cancellation.cancel);
    // A pause closed by a cancel or by its expiry resumes already cancelled: the agent runs nothing.
    if (resume?.closed) cancellation.cancel();
    try {
      const rows =
        userMessage.seq > 1
          ? await this.metrics.timeDatabase('load_context', () =>
              this.messages.findContextRows(user.userId, conversationId, userMessage.seq, CONTEXT_ROW_LIMIT),
            )
          : [];
      const result = await this.agent.runTurn({
        userId: user.userId,
        token: user.token,
        history: rows,
        message: command.message,
        signal,
        cancel: cancellation.signal,
        onEvent: (event) => publishAgentEvent(events, event),
        resume: resume?.state,
      });
      const { toolCalls, pause } = storedToolCalls(result, resume, this.config.chat.approvalTtlMs);
      const answer = await this.metrics.timeDatabase('complete_turn', () =>
        this.messages.completeTurn(
          user.userId,
          conversationId,
          { userMessageId: userMessage.id, leaseOwner: lease.owner, answerMessageId: resume?.answerMessageId },
          {
            content: result.text,
            toolCalls,
            model: result.model,
            stopReason: result.stopReason,
            usage: result.usage,
            transcript: result.transcript,
          },
          pause,
        ),
      );
      if (!answer) throw turnInterrupted();
      lease.released();
      const pendingApprovals = pause && toPendingApprovalDtos(pause, answer.approvalsExpireAt);
      const response = toChatTurnDto({
        conversationId,
        userMessageId: userMessage.id,
        messageId: answer.id,
        result: { ...result, toolCalls },
        pendingApprovals,
      });
      stopTimer({ outcome: 'completed' });
      if (pendingApprovals) this.metrics.approvals.inc({ outcome: 'requested' }, pendingApprovals.length);
      if (command.idempotencyKey) await this.rememberAnswer(user.userId, command.idempotencyKey, response);
      for (const approval of pendingApprovals ?? []) events.publish('approval.required', approval);
      await events.finish('turn.completed', response);
      return response;
    } catch (error) {
      const failure = toTurnFailure(error);
      stopTimer({ outcome: failure.code });
      await this.recordFailure(turn, failure.code);
      await this.releaseLease(turn);
      const failed = turnFailed(failure, error, { conversationId, userMessageId: userMessage.id });
      const { requestId, instance } = command.origin;
      await events.finish('turn.failed', toProblem(failed, requestId, instance).problem);
      throw failed;
    } finally {
      cancellation.release();
    }
  }

  /** The turn is stored: failing to record its answer under the key must not fail it (the key's lock then passes). */
  private async rememberAnswer(userId: string, key: string, response: ChatTurnDto): Promise<void> {
    await this.idempotency
      .complete(userId, key, response)
      .catch((error: unknown) =>
        this.logger.error({ err: error }, 'could not record the answer of an idempotency key'),
      );
  }

  /** Best effort: the database may be what failed. */
  private async recordFailure({ user, command, userMessage, resume }: HeldTurn, code: string): Promise<void> {
    await Promise.all([
      this.messages.markFailed(user.userId, userMessage.id, code),
      resume && this.messages.markFailed(user.userId, resume.answerMessageId, code),
      command.idempotencyKey && this.idempotency.release(user.userId, command.idempotencyKey),
    ]).catch((cleanupError: unknown) => this.logger.error({ err: cleanupError }, 'could not record a failed turn'));
  }

  private async releaseLease({ lease }: HeldTurn): Promise<void> {
    await lease
      .release()
      .catch((releaseError: unknown) => this.logger.warn({ err: releaseError }, 'lease release failed; it expires'));
  }
}

function publishAgentEvent(events: TurnEventWriter, event: AgentEvent): void {
  if (event.type === 'text.delta') return events.text(event.text);
  const { type, ...data } = event;
  events.publish(type, data);
}

/** Answers stored before turns had ids name their turn by the user message only. */
function replayed(userId: string, response: ChatTurnDto, resumeAfter: number | undefined): ReplayedTurn {
  const ref: TurnRef = { userId, conversationId: response.conversation_id, turnId: response.user_message_id };
  return { kind: 'replayed', response, ref, resumeAfter };
}

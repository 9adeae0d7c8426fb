import { Injectable, Logger } from '@nestjs/common';
import type { AgentEvent } from '../../agent/agent-turn';
import { AgentService } from '../../agent/agent.service';
import { CONTEXT_ROW_LIMIT } from '../../agent/context/context-window';
import type { AuthUser } from '../../auth/auth-user';
import { Metrics } from '../../metrics/metrics';
import { conversationNotFound, modelNotConfigured, toTurnFailure, turnFailed, turnInterrupted } from '../chat.errors';
import { toChatTurnDto } from '../chat.mapper';
import { titleFromMessage } from '../conversation-title';
import type { ChatTurnDto } from '../dto/chat-turn.dto';
import { IdempotencyService } from '../idempotency/idempotency.service';
import { ConversationRepository } from '../repositories/conversation.repository';
import { MessageRepository } from '../repositories/message.repository';
import { RunningTurns } from './running-turns';
import {
  StartedTurn,
  type HeldTurn,
  type ReplayedTurn,
  type SendMessageCommand,
  type TurnRunner,
} from './started-turn';
import { TurnLeaseService } from './turn-lease.service';

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
    private readonly metrics: Metrics,
  ) {}

  /** Every refusal happens here, before anything is streamed; the user's message is stored before the model is called. */
  async start(user: AuthUser, command: SendMessageCommand): Promise<StartedTurn | ReplayedTurn> {
    this.runningTurns.assertAccepting();
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
      if (claim.kind === 'replay') return { kind: 'replayed', response: claim.response as ChatTurnDto };
    }
    // The lease and the message are taken in one statement: a refusal holds neither, only the key.
    const { conversationId } = command;
    const { lease, userMessage } = await (
      conversationId
        ? this.leases.acquire(user.userId, conversationId, command.message)
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
    return new StartedTurn(this, { user, command, lease, userMessage });
  }

  run(turn: HeldTurn, onEvent?: (event: AgentEvent) => void): Promise<ChatTurnDto> {
    return this.runningTurns.track((signal) => this.execute(turn, signal, onEvent));
  }

  async abandon(turn: HeldTurn): Promise<void> {
    this.logger.warn(`a started turn of conversation ${turn.lease.conversationId} was never run; released`);
    await this.recordFailure(turn, 'turn_interrupted');
    await this.releaseLease(turn);
  }

  private async execute(
    turn: HeldTurn,
    signal: AbortSignal,
    onEvent?: (event: AgentEvent) => void,
  ): Promise<ChatTurnDto> {
    const { user, command, lease, userMessage } = turn;
    const { conversationId } = lease;
    const stopTimer = this.metrics.turnDuration.startTimer();
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
        onEvent,
      });
      const answer = await this.metrics.timeDatabase('complete_turn', () =>
        this.messages.completeTurn(
          user.userId,
          conversationId,
          { userMessageId: userMessage.id, leaseOwner: lease.owner },
          {
            content: result.text,
            toolCalls: result.toolCalls,
            model: result.model,
            stopReason: result.stopReason,
            usage: result.usage,
            transcript: result.transcript,
          },
        ),
      );
      if (!answer) throw turnInterrupted();
      lease.released();
      const response = toChatTurnDto({ conversationId, userMessageId: userMessage.id, messageId: answer.id, result });
      stopTimer({ outcome: 'completed' });
      if (command.idempotencyKey) await this.rememberAnswer(user.userId, command.idempotencyKey, response);
      return response;
    } catch (error) {
      const failure = toTurnFailure(error);
      stopTimer({ outcome: failure.code });
      await this.recordFailure(turn, failure.code);
      await this.releaseLease(turn);
      throw turnFailed(failure, error, { conversationId, userMessageId: userMessage.id });
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
  private async recordFailure({ user, command, userMessage }: HeldTurn, code: string): Promise<void> {
    await Promise.all([
      this.messages.markFailed(user.userId, userMessage.id, code),
      command.idempotencyKey && this.idempotency.release(user.userId, command.idempotencyKey),
    ]).catch((cleanupError: unknown) => this.logger.error({ err: cleanupError }, 'could not record a failed turn'));
  }

  private async releaseLease({ lease }: HeldTurn): Promise<void> {
    await lease
      .release()
      .catch((releaseError: unknown) => this.logger.warn({ err: releaseError }, 'lease release failed; it expires'));
  }
}

import { Injectable, Logger } from '@nestjs/common';
import type { AgentEvent } from '../agent/agent-turn';
import { AgentService } from '../agent/agent.service';
import { CONTEXT_ROW_LIMIT } from '../agent/context/context-window';
import type { AuthUser } from '../auth/auth-user';
import { AppError } from '../common/errors/app-error';
import { decodeCursor, encodeCursor } from '../common/pagination/cursor';
import { isDatabaseUnavailable } from '../common/errors/database-errors';
import { Metrics } from '../metrics/metrics';
import { conversationNotFound } from './chat-errors';
import { toChatTurnDto } from './chat.mapper';
import { titleFromMessage } from './conversation-title';
import type { ChatTurnDto } from './dto/chat-turn.dto';
import type { MessageEntity } from './entities/message.entity';
import { IdempotencyService } from './idempotency/idempotency.service';
import { ConversationRepository } from './repositories/conversation.repository';
import { MessageRepository } from './repositories/message.repository';
import { RunningTurns } from './turns/running-turns';
import { TurnLease, TurnLeaseService } from './turns/turn-lease.service';

export interface HistoryPage {
  conversationId: string;
  messages: MessageEntity[];
  hasMore: boolean;
  nextCursor: string | null;
}

export interface SendMessageCommand {
  message: string;
  conversationId?: string;
  idempotencyKey?: string;
}

/** A turn that passed every check and holds its conversation: `run` calls the model. */
export interface StartedTurn {
  kind: 'started';
  conversationId: string;
  userMessageId: string;
  run(onEvent?: (event: AgentEvent) => void): Promise<ChatTurnDto>;
}

/** An Idempotency-Key repeat: the stored answer, with no model call. */
export interface ReplayedTurn {
  kind: 'replayed';
  response: ChatTurnDto;
}

const MAX_SEQ = 2_147_483_647;

/** A seq the `integer` column can hold. */
function parseSeqPosition({ seq }: Record<string, unknown>): { seq: number } | undefined {
  return typeof seq === 'number' && Number.isInteger(seq) && seq > 0 && seq <= MAX_SEQ ? { seq } : undefined;
}

@Injectable()
export class ChatService {
  private readonly logger = new Logger(ChatService.name);

  constructor(
    private readonly conversations: ConversationRepository,
    private readonly messages: MessageRepository,
    private readonly agent: AgentService,
    private readonly leases: TurnLeaseService,
    private readonly idempotency: IdempotencyService,
    private readonly runningTurns: RunningTurns,
    private readonly metrics: Metrics,
  ) {}

  /**
   * Everything that can refuse a turn, before anything is streamed: ownership (404), the model (503),
   * the idempotency key (replay, 409, 422), the conversation's lease (waits, then 409). Then the user's
   * message is stored, pending, before the model is ever called.
   */
  async startTurn(user: AuthUser, command: SendMessageCommand): Promise<StartedTurn | ReplayedTurn> {
    this.runningTurns.assertAccepting();
    if (!this.agent.configured) {
      // Ownership first, so a foreign conversation is a 404 whatever the model's state. With a model,
      // the lease statement checks it (WHERE user_id), with no round trip of its own.
      if (command.conversationId) await this.assertOwnConversation(user.userId, command.conversationId);
      throw new AppError('model_not_configured', 'No model is configured on this service; nothing was stored.', {
        retryAfterSeconds: 60,
      });
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
    return {
      kind: 'started',
      conversationId: lease.conversationId,
      userMessageId: userMessage.id,
      run: (onEvent) =>
        this.runningTurns.track((signal) => this.runTurn(user, command, { lease, userMessage, signal, onEvent })),
    };
  }

  async getHistory(userId: string, conversationId: string, limit: number, before?: string): Promise<HistoryPage> {
    const scope = `history:${conversationId}`;
    const beforeSeq = before ? decodeCursor(before, { scope, field: 'before' }, parseSeqPosition).seq : undefined;
    await this.assertOwnConversation(userId, conversationId);

    const newestFirst = await this.messages.findPageBefore(userId, conversationId, limit + 1, beforeSeq);
    const hasMore = newestFirst.length > limit;
    const messages = newestFirst.slice(0, limit).reverse();
    return {
      conversationId,
      messages,
      hasMore,
      nextCursor: hasMore ? encodeCursor(scope, { seq: messages[0].seq }) : null,
    };
  }

  /**
   * The answer and the message's completion are stored together. On failure the message stays,
   * marked failed with the error's code, and the error names the conversation and the message.
   */
  private async runTurn(
    user: AuthUser,
    command: SendMessageCommand,
    turn: {
      lease: TurnLease;
      userMessage: { id: string; seq: number };
      signal: AbortSignal;
      onEvent?: (event: AgentEvent) => void;
    },
  ): Promise<ChatTurnDto> {
    const { conversationId } = turn.lease;
    const stopTimer = this.metrics.turnDuration.startTimer();
    try {
      // The first message of a conversation has no earlier turns to read.
      const rows =
        turn.userMessage.seq > 1
          ? await this.metrics.timeDatabase('load_context', () =>
              this.messages.findContextRows(user.userId, conversationId, turn.userMessage.seq, CONTEXT_ROW_LIMIT),
            )
          : [];
      const result = await this.agent.runTurn({
        userId: user.userId,
        token: user.token,
        history: rows,
        message: command.message,
        signal: turn.signal,
        onEvent: turn.onEvent,
      });
      const answer = await this.metrics.timeDatabase('complete_turn', () =>
        this.messages.completeTurn(
          user.userId,
          conversationId,
          { userMessageId: turn.userMessage.id, leaseOwner: turn.lease.owner },
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
      if (!answer) {
        throw new AppError('turn_interrupted', 'The turn lost its hold on the conversation and was not stored.');
      }
      turn.lease.released();
      const response = toChatTurnDto({
        conversationId,
        userMessageId: turn.userMessage.id,
        messageId: answer.id,
        result,
      });
      stopTimer({ outcome: 'completed' });
      if (command.idempotencyKey) await this.rememberAnswer(user.userId, command.idempotencyKey, response);
      return response;
    } catch (error) {
      const failure = toTurnFailure(error);
      stopTimer({ outcome: failure.code });
      await this.recordFailure(user.userId, turn.userMessage.id, failure.code, command.idempotencyKey);
      await turn.lease
        .release()
        .catch((releaseError: unknown) => this.logger.warn({ err: releaseError }, 'lease release failed; it expires'));
      throw new AppError(failure.code, failure.detail, {
        cause: error,
        retryAfterSeconds: failure.retryAfterSeconds,
        extensions: { conversation_id: conversationId, user_message_id: turn.userMessage.id },
      });
    }
  }

  /**
   * The turn is stored: a failure to record its answer under the key must not fail it. The key then
   * stays in flight until its lock passes, like the key of a replica that died after storing a turn.
   */
  private async rememberAnswer(userId: string, key: string, response: ChatTurnDto): Promise<void> {
    await this.idempotency
      .complete(userId, key, response)
      .catch((error: unknown) =>
        this.logger.error({ err: error }, 'could not record the answer of an idempotency key'),
      );
  }

  /** Best effort: the database may be what failed. The message then stays pending until the next turn. */
  private async recordFailure(userId: string, messageId: string, code: string, idempotencyKey?: string): Promise<void> {
    await Promise.all([
      this.messages.markFailed(userId, messageId, code),
      idempotencyKey && this.idempotency.release(userId, idempotencyKey),
    ]).catch((cleanupError: unknown) => this.logger.error({ err: cleanupError }, 'could not record a failed turn'));
  }

  private async assertOwnConversation(userId: string, conversationId: string): Promise<void> {
    if (!(await this.conversations.findForUser(userId, conversationId))) throw conversationNotFound(conversationId);
  }
}

function toTurnFailure(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (isDatabaseUnavailable(error)) {
    return new AppError('database_unavailable', 'The database became unavailable during the turn; try again.', {
      retryAfterSeconds: 5,
    });
  }
  return new AppError('internal_error', 'The turn failed unexpectedly; it has been logged.');
}

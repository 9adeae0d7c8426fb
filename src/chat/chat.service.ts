import { Injectable, Logger } from '@nestjs/common';
import type { AgentEvent, AgentTurnResult } from '../agent/agent-turn';
import { AgentService } from '../agent/agent.service';
import type { AuthUser } from '../auth/auth-user';
import { AppError } from '../common/errors/app-error';
import { decodeCursor, encodeCursor } from '../common/pagination/cursor';
import { AppConfig } from '../config/app-config';
import { isDatabaseUnavailable } from '../database/database-errors';
import { conversationNotFound } from './chat-errors';
import { buildContextWindow, CONTEXT_ROW_LIMIT } from './context-window';
import { titleFromMessage } from './conversation-title';
import type { MessageEntity } from './entities/message.entity';
import { ConversationRepository } from './repositories/conversation.repository';
import { MessageRepository } from './repositories/message.repository';

export interface HistoryPage {
  conversationId: string;
  messages: MessageEntity[];
  hasMore: boolean;
  nextCursor: string | null;
}

export interface SendMessageCommand {
  message: string;
  conversationId?: string;
  onEvent?: (event: AgentEvent) => void;
}

export interface CompletedTurn {
  conversationId: string;
  userMessageId: string;
  messageId: string;
  result: AgentTurnResult;
}

const isSeqPosition = (value: Record<string, unknown>): value is { seq: number } =>
  Number.isSafeInteger(value.seq) && (value.seq as number) > 0;

@Injectable()
export class ChatService {
  private readonly logger = new Logger(ChatService.name);

  constructor(
    private readonly conversations: ConversationRepository,
    private readonly messages: MessageRepository,
    private readonly agent: AgentService,
    private readonly config: AppConfig,
  ) {}

  /**
   * One turn: the user's message is stored (pending) before the model is called; the answer and the
   * message's completion are stored together. On failure the message stays, marked failed with the
   * error's code, and the error names the conversation and message so the client can show them.
   */
  async sendMessage(user: AuthUser, command: SendMessageCommand): Promise<CompletedTurn> {
    // Ownership first (404 reads nothing of others), then the model check, so nothing is stored for a turn
    // that cannot run.
    const existing = command.conversationId
      ? await this.ownConversation(user.userId, command.conversationId)
      : undefined;
    if (!this.agent.configured) {
      throw new AppError('model_not_configured', 'No model is configured on this service; nothing was stored.', {
        retryAfterSeconds: 60,
      });
    }
    const conversationId =
      existing ?? (await this.conversations.createForUser(user.userId, titleFromMessage(command.message))).id;
    const userMessage = await this.messages.appendUserMessage(user.userId, conversationId, command.message);
    if (!userMessage) throw conversationNotFound(conversationId);

    try {
      const rows = await this.messages.findContextRows(user.userId, conversationId, userMessage.seq, CONTEXT_ROW_LIMIT);
      const result = await this.agent.runTurn({
        userId: user.userId,
        token: user.token,
        context: buildContextWindow(rows, this.config.chat.contextTokenBudget),
        message: command.message,
        signal: AbortSignal.timeout(this.config.chat.turnTimeoutMs),
        onEvent: command.onEvent,
      });
      const answer = await this.messages.completeTurn(user.userId, conversationId, userMessage.id, {
        content: result.text,
        toolCalls: result.toolCalls,
        model: result.model,
        stopReason: result.stopReason,
        usage: result.usage,
        transcript: result.transcript,
      });
      return { conversationId, userMessageId: userMessage.id, messageId: answer.id, result };
    } catch (error) {
      const failure = toTurnFailure(error);
      await this.messages
        .markFailed(user.userId, userMessage.id, failure.code)
        .catch((markError: unknown) => this.logger.error({ err: markError }, 'could not mark a failed turn'));
      throw new AppError(failure.code, failure.detail, {
        cause: error,
        retryAfterSeconds: failure.retryAfterSeconds,
        extensions: { conversation_id: conversationId, user_message_id: userMessage.id },
      });
    }
  }

  async getHistory(userId: string, conversationId: string, limit: number, before?: string): Promise<HistoryPage> {
    const scope = `history:${conversationId}`;
    const beforeSeq = before ? decodeCursor(before, { scope, field: 'before' }, isSeqPosition).seq : undefined;
    const conversation = await this.conversations.findForUser(userId, conversationId);
    if (!conversation) throw conversationNotFound(conversationId);

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

  private async ownConversation(userId: string, conversationId: string): Promise<string> {
    const conversation = await this.conversations.findForUser(userId, conversationId);
    if (!conversation) throw conversationNotFound(conversationId);
    return conversation.id;
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

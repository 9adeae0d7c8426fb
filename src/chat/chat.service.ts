import { Injectable } from '@nestjs/common';
import { decodeCursor, encodeCursor } from '../common/pagination/cursor';
import { conversationNotFound } from './chat-errors';
import type { MessageEntity } from './entities/message.entity';
import { ConversationRepository } from './repositories/conversation.repository';
import { MessageRepository } from './repositories/message.repository';

export interface HistoryPage {
  conversationId: string;
  messages: MessageEntity[];
  hasMore: boolean;
  nextCursor: string | null;
}

const isSeqPosition = (value: Record<string, unknown>): value is { seq: number } =>
  Number.isSafeInteger(value.seq) && (value.seq as number) > 0;

@Injectable()
export class ChatService {
  constructor(
    private readonly conversations: ConversationRepository,
    private readonly messages: MessageRepository,
  ) {}

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
}

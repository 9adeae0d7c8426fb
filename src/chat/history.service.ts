import { Injectable } from '@nestjs/common';
import { decodeCursor, encodeCursor } from '../common/pagination/cursor';
import { conversationNotFound } from './chat.errors';
import type { MessageEntity } from './entities/message.entity';
import { ConversationRepository } from './repositories/conversation.repository';
import { MessageRepository } from './repositories/message.repository';

export interface HistoryPage {
  conversationId: string;
  messages: MessageEntity[];
  hasMore: boolean;
  nextCursor: string | null;
}

const MAX_SEQ = 2_147_483_647;

/** A seq the `integer` column can hold. */
function parseSeqPosition({ seq }: Record<string, unknown>): { seq: number } | undefined {
  return typeof seq === 'number' && Number.isInteger(seq) && seq > 0 && seq <= MAX_SEQ ? { seq } : undefined;
}

/** A conversation's messages, newest page first, paged by `seq` with a cursor scoped to the conversation. */
@Injectable()
export class HistoryService {
  constructor(
    private readonly conversations: ConversationRepository,
    private readonly messages: MessageRepository,
  ) {}

  async page(userId: string, conversationId: string, limit: number, before?: string): Promise<HistoryPage> {
    const scope = `history:${conversationId}`;
    const beforeSeq = before ? decodeCursor(before, { scope, field: 'before' }, parseSeqPosition).seq : undefined;
    if (!(await this.conversations.findForUser(userId, conversationId))) throw conversationNotFound(conversationId);

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

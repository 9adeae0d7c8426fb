import { Injectable } from '@nestjs/common';
import { decodeCursor, encodeCursor, isCursorTimestamp } from '../common/pagination/cursor';
import { conversationBusyForDelete, conversationNotFound } from './chat.errors';
import type { ConversationEntity } from './entities/conversation.entity';
import { ConversationRepository, type ConversationPosition } from './repositories/conversation.repository';

export interface ConversationPage {
  conversations: ConversationEntity[];
  hasMore: boolean;
  nextCursor: string | null;
}

const CURSOR_SCOPE = 'conversations';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function parsePosition({ updatedAt, id }: Record<string, unknown>): ConversationPosition | undefined {
  return isCursorTimestamp(updatedAt) && typeof id === 'string' && UUID.test(id) ? { updatedAt, id } : undefined;
}

@Injectable()
export class ConversationsService {
  constructor(private readonly conversations: ConversationRepository) {}

  async list(userId: string, limit: number, cursor?: string): Promise<ConversationPage> {
    const after = cursor ? decodeCursor(cursor, { scope: CURSOR_SCOPE, field: 'cursor' }, parsePosition) : undefined;
    const rows = await this.conversations.findPageForUser(userId, limit + 1, after);
    const hasMore = rows.length > limit;
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      conversations: page.map((row) => row.conversation),
      hasMore,
      nextCursor: hasMore && last ? encodeCursor(CURSOR_SCOPE, { ...last.position }) : null,
    };
  }

  async get(userId: string, conversationId: string): Promise<ConversationEntity> {
    const conversation = await this.conversations.findForUser(userId, conversationId);
    if (!conversation) throw conversationNotFound(conversationId);
    return conversation;
  }

  async rename(userId: string, conversationId: string, title: string): Promise<ConversationEntity> {
    const conversation = await this.conversations.renameForUser(userId, conversationId, title);
    if (!conversation) throw conversationNotFound(conversationId);
    return conversation;
  }

  async delete(userId: string, conversationId: string): Promise<void> {
    const outcome = await this.conversations.deleteForUser(userId, conversationId);
    if (outcome === 'not_found') throw conversationNotFound(conversationId);
    if (outcome === 'busy') throw conversationBusyForDelete();
  }
}

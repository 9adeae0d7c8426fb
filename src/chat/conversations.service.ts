import { Injectable } from '@nestjs/common';
import { decodeCursor, encodeCursor, isCursorTimestamp } from '../common/pagination/cursor';
import { conversationBusyForDelete, conversationNotFound } from './chat.errors';
import { ApprovalRepository, type PendingApprovalRow } from './approvals/approval.repository';
import type { ConversationEntity } from './entities/conversation.entity';
import { ConversationRepository, type ConversationPosition } from './repositories/conversation.repository';

/** A conversation with what its paused turn waits on. */
export interface ConversationView {
  conversation: ConversationEntity;
  pendingApprovals: PendingApprovalRow[];
}

export interface ConversationPage {
  conversations: ConversationView[];
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
  constructor(
    private readonly conversations: ConversationRepository,
    private readonly approvals: ApprovalRepository,
  ) {}

  async list(userId: string, limit: number, cursor?: string): Promise<ConversationPage> {
    const after = cursor ? decodeCursor(cursor, { scope: CURSOR_SCOPE, field: 'cursor' }, parsePosition) : undefined;
    const rows = await this.conversations.findPageForUser(userId, limit + 1, after);
    const hasMore = rows.length > limit;
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      conversations: await this.withApprovals(
        userId,
        page.map((row) => row.conversation),
      ),
      hasMore,
      nextCursor: hasMore && last ? encodeCursor(CURSOR_SCOPE, { ...last.position }) : null,
    };
  }

  async get(userId: string, conversationId: string): Promise<ConversationView> {
    const conversation = await this.conversations.findForUser(userId, conversationId);
    if (!conversation) throw conversationNotFound(conversationId);
    const [view] = await this.withApprovals(userId, [conversation]);
    return view;
  }

  async rename(userId: string, conversationId: string, title: string): Promise<ConversationView> {
    const conversation = await this.conversations.renameForUser(userId, conversationId, title);
    if (!conversation) throw conversationNotFound(conversationId);
    const [view] = await this.withApprovals(userId, [conversation]);
    return view;
  }

  /** One query for the page, and only for the conversations a turn of which waits. */
  private async withApprovals(userId: string, conversations: ConversationEntity[]): Promise<ConversationView[]> {
    const paused = conversations.filter((conversation) => conversation.awaitingApprovalTurnId !== null);
    const rows = await this.approvals.pendingFor(
      userId,
      paused.map((conversation) => conversation.id),
    );
    return conversations.map((conversation) => ({
      conversation,
      pendingApprovals: rows.filter((row) => row.conversation_id === conversation.id),
    }));
  }

  async delete(userId: string, conversationId: string): Promise<void> {
    const outcome = await this.conversations.deleteForUser(userId, conversationId);
    if (outcome === 'not_found') throw conversationNotFound(conversationId);
    if (outcome === 'busy') throw conversationBusyForDelete();
  }
}

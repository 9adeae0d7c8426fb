import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, Repository } from 'typeorm';
import {
  MessageEntity,
  type MessageRole,
  type MessageStatus,
  type StoredToolCall,
  type StoredUsage,
  type TranscriptMessage,
} from '../entities/message.entity';

export interface StoredMessageRef {
  id: string;
  seq: number;
}

export interface AssistantMessageInput {
  content: string;
  toolCalls: StoredToolCall[];
  model: string;
  stopReason: string;
  usage: StoredUsage;
  transcript: TranscriptMessage[];
}

/** A stored message in the form the context window needs. */
export type ContextRow = Pick<MessageEntity, 'seq' | 'role' | 'content' | 'transcript'>;

interface NewMessage {
  role: MessageRole;
  content: string;
  status: MessageStatus;
  assistant?: AssistantMessageInput;
}

/**
 * Allocates the next `seq` and inserts in one statement: the conversation row's counter is bumped
 * under its row lock, so seqs have no gaps or duplicates, and the owner is part of the condition.
 */
const INSERT_WITH_NEXT_SEQ = `
  WITH c AS (
    UPDATE conversations SET message_count = message_count + 1, updated_at = now()
    WHERE id = $1 AND user_id = $2
    RETURNING message_count
  )
  INSERT INTO messages (conversation_id, user_id, seq, role, content, status, tool_calls, model, stop_reason, usage, transcript)
  SELECT $1, $2, c.message_count, $3, $4, $5, $6::jsonb, $7, $8, $9::jsonb, $10::jsonb FROM c
  RETURNING id, seq`;

@Injectable()
export class MessageRepository {
  private readonly repository: Repository<MessageEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.repository = dataSource.getRepository(MessageEntity);
  }

  /**
   * Newest first, before `beforeSeq` when given: a keyset scan of the (conversation_id, seq) index,
   * so a page costs the same at message 10 and 100,000. The owner is part of the query.
   */
  findPageBefore(userId: string, conversationId: string, limit: number, beforeSeq?: number): Promise<MessageEntity[]> {
    const query = this.repository
      .createQueryBuilder('m')
      .where('m.conversation_id = :conversationId AND m.user_id = :userId', { conversationId, userId })
      .orderBy('m.seq', 'DESC')
      .limit(limit);
    if (beforeSeq !== undefined) query.andWhere('m.seq < :beforeSeq', { beforeSeq });
    return query.getMany();
  }

  /** The newest completed messages before `beforeSeq` (failed turns never reach the model), newest first. */
  findContextRows(userId: string, conversationId: string, beforeSeq: number, limit: number): Promise<ContextRow[]> {
    return this.repository
      .createQueryBuilder('m')
      .select(['m.seq', 'm.role', 'm.content', 'm.transcript'])
      .where('m.conversation_id = :conversationId AND m.user_id = :userId', { conversationId, userId })
      .andWhere('m.seq < :beforeSeq', { beforeSeq })
      .andWhere(`m.status = 'completed'`)
      .orderBy('m.seq', 'DESC')
      .limit(limit)
      .getMany();
  }

  /** Stored as `pending` before the model is called; null when the conversation is not the user's. */
  appendUserMessage(userId: string, conversationId: string, content: string): Promise<StoredMessageRef | null> {
    return insertWithNextSeq(this.dataSource.manager, userId, conversationId, {
      role: 'user',
      content,
      status: 'pending',
    });
  }

  /** The answer and the user message's completion land together, or not at all. */
  completeTurn(
    userId: string,
    conversationId: string,
    userMessageId: string,
    answer: AssistantMessageInput,
  ): Promise<StoredMessageRef> {
    return this.dataSource.transaction(async (manager) => {
      await manager.update(MessageEntity, { id: userMessageId, userId }, { status: 'completed' });
      const stored = await insertWithNextSeq(manager, userId, conversationId, {
        role: 'assistant',
        content: answer.content,
        status: 'completed',
        assistant: answer,
      });
      if (!stored) throw new Error(`Conversation ${conversationId} vanished during its turn`);
      return stored;
    });
  }

  /**
   * Called by the turn that now holds the lease: a message still pending belongs to a turn whose
   * replica died, so it is marked failed and history keeps alternating.
   */
  async interruptPending(conversationId: string): Promise<number> {
    const [, affected] = (await this.dataSource.query(
      `UPDATE messages SET status = 'failed', error_code = 'turn_interrupted'
       WHERE conversation_id = $1 AND status = 'pending'`,
      [conversationId],
    )) as [unknown[], number];
    return affected;
  }

  async markFailed(userId: string, messageId: string, errorCode: string): Promise<void> {
    await this.repository.update({ id: messageId, userId }, { status: 'failed', errorCode });
  }
}

async function insertWithNextSeq(
  manager: EntityManager,
  userId: string,
  conversationId: string,
  message: NewMessage,
): Promise<StoredMessageRef | null> {
  const { assistant } = message;
  const rows: StoredMessageRef[] = await manager.query(INSERT_WITH_NEXT_SEQ, [
    conversationId,
    userId,
    message.role,
    message.content,
    message.status,
    JSON.stringify(assistant?.toolCalls ?? []),
    assistant?.model ?? null,
    assistant?.stopReason ?? null,
    assistant ? JSON.stringify(assistant.usage) : null,
    assistant ? JSON.stringify(assistant.transcript) : null,
  ]);
  return rows[0] ?? null;
}

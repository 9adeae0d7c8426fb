import { Injectable } from '@nestjs/common';
import { DataSource, Repository } from 'typeorm';
import { PreparedStatement, PreparedStatements } from '../../database/prepared-statement';
import { toStorableJson, toStorableText } from '../../common/validation/storable-text';
import {
  MessageEntity,
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

/** The newest completed messages before a seq (failed turns never reach the model), newest first. */
const CONTEXT_ROWS = new PreparedStatement<ContextRow>(
  'chat_context_rows',
  `SELECT seq, role, content, transcript FROM messages
   WHERE conversation_id = $1 AND user_id = $2 AND seq < $3 AND status = 'completed'
   ORDER BY seq DESC LIMIT $4`,
);

/**
 * The answer, the user message's completion and the lease's release together, only while the lease is
 * still this turn's: sibling CTEs all run, so `answered` is conditioned on `c` having matched.
 */
const COMPLETE_TURN = new PreparedStatement<StoredMessageRef>(
  'chat_complete_turn',
  `
  WITH c AS (
    UPDATE conversations
    SET message_count = message_count + 1, updated_at = now(), lease_owner = NULL, lease_expires_at = NULL
    WHERE id = $1 AND user_id = $2 AND lease_owner = $3
    RETURNING message_count
  ), answered AS (
    UPDATE messages SET status = 'completed' WHERE id = $4 AND user_id = $2 AND EXISTS (SELECT 1 FROM c)
  )
  INSERT INTO messages (conversation_id, user_id, seq, role, content, status, tool_calls, model, stop_reason, usage, transcript)
  SELECT $1, $2, c.message_count, 'assistant', $5, 'completed', $6::jsonb, $7, $8, $9::jsonb, $10::jsonb FROM c
  RETURNING id, seq`,
);

@Injectable()
export class MessageRepository {
  private readonly repository: Repository<MessageEntity>;

  constructor(
    dataSource: DataSource,
    private readonly statements: PreparedStatements,
  ) {
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

  findContextRows(userId: string, conversationId: string, beforeSeq: number, limit: number): Promise<ContextRow[]> {
    return this.statements.rows(CONTEXT_ROWS, [conversationId, userId, beforeSeq, limit]);
  }

  /**
   * One statement, so all of it or none, in one round trip. Null when the lease is no longer this
   * turn's (it expired and another turn took the conversation): then nothing is written.
   */
  async completeTurn(
    userId: string,
    conversationId: string,
    turn: { userMessageId: string; leaseOwner: string },
    answer: AssistantMessageInput,
  ): Promise<StoredMessageRef | null> {
    const rows = await this.statements.rows(COMPLETE_TURN, [
      conversationId,
      userId,
      turn.leaseOwner,
      turn.userMessageId,
      toStorableText(answer.content),
      toStorableJson(answer.toolCalls),
      answer.model,
      answer.stopReason,
      JSON.stringify(answer.usage),
      toStorableJson(answer.transcript),
    ]);
    return rows[0] ?? null;
  }

  /** Only a pending message can fail: a turn already stored as completed stays completed. */
  async markFailed(userId: string, messageId: string, errorCode: string): Promise<void> {
    await this.repository.update({ id: messageId, userId, status: 'pending' }, { status: 'failed', errorCode });
  }
}

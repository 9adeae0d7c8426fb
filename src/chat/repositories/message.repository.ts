import { Injectable } from '@nestjs/common';
import { DataSource, Repository } from 'typeorm';
import { PreparedStatements } from '../../database/prepared-statements';
import { toStorableJson, toStorableText } from '../../common/validation/storable-text';
import {
  MessageEntity,
  type PausedTurnState,
  type StoredToolCall,
  type StoredUsage,
  type TranscriptMessage,
} from '../entities/message.entity';
import type { TurnRef } from '../turn-events/turn-event';
import {
  COMPLETE_TURN,
  CONTEXT_ROWS,
  FIND_TURN,
  RECONNECT_TURN_IN_CONVERSATION,
  RECONNECT_TURN_IN_NEW_CONVERSATION,
  TURN_ANSWER,
  type ContextRow,
  type StoredAnswer,
  type StoredMessageRef,
  type StoredTurn,
} from './message.statements';

export type { ContextRow, StoredAnswer, StoredMessageRef, StoredTurn } from './message.statements';

/** A turn that pauses: its state on the answer, and one approval per call that waits for the user. */
export interface TurnPause {
  state: PausedTurnState;
  approvals: { id: string; toolCallId: string; tool: string; server: string; arguments: Record<string, unknown> }[];
  ttlMs: number;
}

export interface AssistantMessageInput {
  content: string;
  toolCalls: StoredToolCall[];
  model: string;
  stopReason: string;
  usage: StoredUsage;
  transcript: TranscriptMessage[];
}

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
    turn: { userMessageId: string; leaseOwner: string; answerMessageId?: string },
    answer: AssistantMessageInput,
    pause?: TurnPause,
  ): Promise<(StoredMessageRef & { approvalsExpireAt: Date }) | null> {
    const approvals = pause?.approvals ?? [];
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
      turn.answerMessageId ?? null,
      pause ? toStorableJson(pause.state) : null,
      pause?.ttlMs ?? 0,
      approvals.map((approval) => approval.id),
      approvals.map((approval) => approval.toolCallId),
      approvals.map((approval) => approval.tool),
      approvals.map((approval) => approval.server),
      approvals.map((approval) => toStorableJson(approval.arguments)),
    ]);
    const [row] = rows;
    return row ? { id: row.id, seq: row.seq, approvalsExpireAt: new Date(row.approvals_expire_at) } : null;
  }

  async findTurn({ userId, conversationId, turnId }: TurnRef): Promise<StoredTurn | null> {
    const [row] = await this.statements.rows(FIND_TURN, [turnId, userId, conversationId]);
    return row ?? null;
  }

  async findAnswer(
    userId: string,
    conversationId: string,
    turn: Pick<StoredTurn, 'seq'>,
  ): Promise<StoredAnswer | null> {
    const [row] = await this.statements.rows(TURN_ANSWER, [conversationId, userId, turn.seq + 1]);
    return row ?? null;
  }

  /** The turn that a re-sent request (an EventSource-style reconnect) started, if it was recent. */
  async findReconnectTurn(
    userId: string,
    conversationId: string | undefined,
    message: string,
    withinMs: number,
  ): Promise<TurnRef | null> {
    const content = toStorableText(message);
    const [row] = conversationId
      ? await this.statements.rows(RECONNECT_TURN_IN_CONVERSATION, [conversationId, userId, content, withinMs])
      : await this.statements.rows(RECONNECT_TURN_IN_NEW_CONVERSATION, [userId, content, withinMs]);
    return row ? { userId, conversationId: row.conversation_id, turnId: row.id } : null;
  }

  /** Only a pending message can fail: a turn already stored as completed stays completed. */
  async markFailed(userId: string, messageId: string, errorCode: string): Promise<void> {
    await this.repository.update({ id: messageId, userId, status: 'pending' }, { status: 'failed', errorCode });
  }
}

import { Injectable } from '@nestjs/common';
import { DataSource, Repository } from 'typeorm';
import { PreparedStatements } from '../../database/prepared-statements';
import { lockUserQuota } from '../../database/user-quota-lock';
import { ConversationEntity } from '../entities/conversation.entity';
import { TURN_CANCEL_CHANNEL, type TurnRef } from '../turn-events/turn-event';
import {
  ACQUIRE_LEASE_AND_APPEND,
  CANCEL_REQUESTED,
  CREATE_WITH_FIRST_MESSAGE_WITHIN_QUOTA,
  FAIL_EXPIRED_TURNS,
  RELEASE_LEASE,
  RENEW_LEASE,
  REQUEST_CANCEL,
} from './conversation.statements';

/** Keyset position in the "most recently active first" listing; the timestamp keeps microseconds. */
export interface ConversationPosition {
  updatedAt: string;
  id: string;
}

export interface ConversationRow {
  conversation: ConversationEntity;
  position: ConversationPosition;
}

export type DeleteOutcome = 'deleted' | 'not_found' | 'busy';

/** `interrupted`: the turns of a dead replica this attempt marked failed. */
export type LeaseAttempt =
  | { state: 'acquired'; messageId: string; seq: number; interrupted: TurnRef[] }
  | { state: 'awaiting_approval'; turnId: string }
  | { state: 'busy' | 'not_found' };

// PostgreSQL keeps microseconds; a JS Date does not, so the cursor carries the exact text form.
const EXACT_UPDATED_AT = `to_char(c.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Every query names the owner (but the expired-lease sweep): a conversation of another user is indistinguishable from none. */
@Injectable()
export class ConversationRepository {
  private readonly repository: Repository<ConversationEntity>;

  constructor(
    dataSource: DataSource,
    private readonly statements: PreparedStatements,
  ) {
    this.repository = dataSource.getRepository(ConversationEntity);
  }

  /**
   * A new conversation with its first message (pending, seq 1) and its first turn's lease already
   * held, in one statement; null when the user already has `maxConversations`. The statement runs
   * under the user's quota lock, so concurrent first messages cannot overshoot the cap.
   */
  createWithFirstMessage(
    userId: string,
    title: string,
    content: string,
    lease: { owner: string; ttlMs: number; messageId: string },
    maxConversations: number,
  ): Promise<{ conversationId: string; messageId: string; seq: number } | null> {
    return this.repository.manager.transaction(async (manager) => {
      const transaction = this.statements.inTransaction(manager);
      await lockUserQuota(transaction, 'conversations', userId);
      const [row] = await transaction.rows(CREATE_WITH_FIRST_MESSAGE_WITHIN_QUOTA, [
        userId,
        title,
        content,
        lease.owner,
        lease.ttlMs,
        maxConversations,
        lease.messageId,
      ]);
      return row ? { conversationId: row.conversation_id, messageId: row.id, seq: row.seq } : null;
    });
  }

  /**
   * Takes the turn lease when it is free or expired and stores the user's message, atomically and in
   * one round trip (so across replicas only one turn of a conversation runs at a time, with no
   * transaction held across the model call). A message left pending by a turn whose replica died is
   * marked interrupted in the same statement, so history keeps alternating.
   */
  async acquireLeaseAndAppend(
    userId: string,
    id: string,
    lease: { owner: string; ttlMs: number; messageId: string },
    content: string,
  ): Promise<LeaseAttempt> {
    const [row] = await this.statements.rows(ACQUIRE_LEASE_AND_APPEND, [
      id,
      userId,
      lease.owner,
      lease.ttlMs,
      content,
      lease.messageId,
    ]);
    if (row) {
      const interrupted = row.interrupted.map((turnId) => ({ userId, conversationId: id, turnId }));
      return { state: 'acquired', messageId: row.id, seq: row.seq, interrupted };
    }
    const conversation = await this.findForUser(userId, id);
    if (conversation?.awaitingApprovalTurnId)
      return { state: 'awaiting_approval', turnId: conversation.awaitingApprovalTurnId };
    return { state: conversation ? 'busy' : 'not_found' };
  }

  /** `held` false when the lease is no longer this owner's (it expired and another turn took it). */
  async renewLease(id: string, owner: string, ttlMs: number): Promise<{ held: boolean; cancelRequested: boolean }> {
    const [row] = await this.statements.rows(RENEW_LEASE, [id, owner, ttlMs]);
    return { held: row !== undefined, cancelRequested: row?.cancel_requested ?? false };
  }

  /** The turns marked interrupted. */
  async failExpiredTurns(): Promise<TurnRef[]> {
    const rows = await this.statements.rows(FAIL_EXPIRED_TURNS, []);
    return rows.map((row) => ({ userId: row.user_id, conversationId: row.conversation_id, turnId: row.id }));
  }

  /** The turn asked to stop (`turnId`, or whichever runs when omitted), or null when none is running. */
  async requestCancel(userId: string, conversationId: string, turnId?: string): Promise<string | null> {
    const [row] = await this.statements.rows(REQUEST_CANCEL, [
      conversationId,
      userId,
      turnId ?? null,
      TURN_CANCEL_CHANNEL,
    ]);
    return row?.turn_id ?? null;
  }

  /** Of these running turns, the ids of those asked to stop. */
  async cancelRequested(turns: readonly TurnRef[]): Promise<string[]> {
    if (turns.length === 0) return [];
    const rows = await this.statements.rows(CANCEL_REQUESTED, [
      turns.map((turn) => turn.conversationId),
      turns.map((turn) => turn.userId),
    ]);
    return rows.map((row) => row.turn_id);
  }

  async releaseLease(id: string, owner: string): Promise<void> {
    await this.statements.rowCount(RELEASE_LEASE, [id, owner]);
  }

  findForUser(userId: string, id: string): Promise<ConversationEntity | null> {
    return this.repository.findOneBy({ id, userId });
  }

  async findPageForUser(userId: string, limit: number, after?: ConversationPosition): Promise<ConversationRow[]> {
    const query = this.repository
      .createQueryBuilder('c')
      .addSelect(EXACT_UPDATED_AT, 'position_updated_at')
      .where('c.user_id = :userId', { userId })
      .orderBy('c.updated_at', 'DESC')
      .addOrderBy('c.id', 'DESC')
      .limit(limit);
    if (after) {
      // Named fields, never the object itself: only these two values become query parameters.
      query.andWhere('(c.updated_at, c.id) < (CAST(:updatedAt AS timestamptz), CAST(:id AS uuid))', {
        updatedAt: after.updatedAt,
        id: after.id,
      });
    }
    const { entities, raw } = await query.getRawAndEntities<{ position_updated_at: string }>();
    return entities.map((conversation, index) => ({
      conversation,
      position: { updatedAt: raw[index].position_updated_at, id: conversation.id },
    }));
  }

  async renameForUser(userId: string, id: string, title: string): Promise<ConversationEntity | null> {
    const result = await this.repository.update({ id, userId }, { title, updatedAt: () => 'now()' });
    return result.affected ? this.findForUser(userId, id) : null;
  }

  /** A conversation whose turn is running is not deleted under it: the caller gets `busy`. */
  async deleteForUser(userId: string, id: string): Promise<DeleteOutcome> {
    const result = await this.repository
      .createQueryBuilder()
      .delete()
      .where('id = :id AND user_id = :userId', { id, userId })
      .andWhere('(lease_expires_at IS NULL OR lease_expires_at < now())')
      .execute();
    if (result.affected) return 'deleted';
    return (await this.findForUser(userId, id)) ? 'busy' : 'not_found';
  }
}

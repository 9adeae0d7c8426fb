import { Injectable } from '@nestjs/common';
import { DataSource, Repository } from 'typeorm';
import { PreparedStatement, PreparedStatements } from '../../database/prepared-statement';
import { lockUserQuota } from '../../database/user-quota-lock';
import { ConversationEntity } from '../entities/conversation.entity';

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

export type LeaseAttempt =
  { state: 'acquired'; messageId: string; seq: number; interrupted: number } | { state: 'busy' | 'not_found' };

// PostgreSQL keeps microseconds; a JS Date does not, so the cursor carries the exact text form.
const EXACT_UPDATED_AT = `to_char(c.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * A new conversation, its first message (pending, seq 1) and its first turn's lease, unless the user
 * already has $6 conversations (then no row). The count is an index-only scan of (user_id, updated_at).
 */
const CREATE_WITH_FIRST_MESSAGE_WITHIN_QUOTA = `WITH c AS (
     INSERT INTO conversations (user_id, title, message_count, lease_owner, lease_expires_at)
     SELECT $1, $2, 1, $4, now() + make_interval(secs => $5 / 1000.0)
     WHERE (SELECT count(*) FROM conversations WHERE user_id = $1) < $6
     RETURNING id
   )
   INSERT INTO messages (conversation_id, user_id, seq, role, content, status)
   SELECT c.id, $1, 1, 'user', $3, 'pending' FROM c
   RETURNING conversation_id, id, seq`;

/**
 * The lease when free or expired, the dead turn's pending message marked interrupted, and the new user
 * message (pending) under the bumped counter: seqs come from the counter, under the row lock, so they
 * have no gaps or duplicates. Sibling CTEs share one snapshot, so `interrupted` never sees the row
 * `appended` inserts. No row: the lease is taken, or the conversation is not the user's.
 */
const ACQUIRE_LEASE_AND_APPEND = new PreparedStatement<{ id: string; seq: number; interrupted: number }>(
  'chat_acquire_lease_and_append',
  `WITH lease AS (
     UPDATE conversations
     SET lease_owner = $3, lease_expires_at = now() + make_interval(secs => $4 / 1000.0),
         message_count = message_count + 1, updated_at = now()
     WHERE id = $1 AND user_id = $2 AND (lease_expires_at IS NULL OR lease_expires_at < now())
     RETURNING id, message_count
   ), interrupted AS (
     UPDATE messages SET status = 'failed', error_code = 'turn_interrupted'
     WHERE conversation_id IN (SELECT id FROM lease) AND status = 'pending'
     RETURNING id
   ), appended AS (
     INSERT INTO messages (conversation_id, user_id, seq, role, content, status)
     SELECT lease.id, $2, lease.message_count, 'user', $5, 'pending' FROM lease
     RETURNING id, seq
   )
   SELECT appended.id, appended.seq, (SELECT count(*) FROM interrupted)::int AS interrupted FROM appended`,
);

/**
 * Frees the leases that expired (their replica died mid-turn) and marks those turns' pending messages
 * interrupted, across users: a sweep, not a request. The partial index on lease_expires_at keeps it
 * to the conversations with a running turn.
 */
const FAIL_EXPIRED_TURNS = `
  WITH expired AS (
    UPDATE conversations SET lease_owner = NULL, lease_expires_at = NULL
    WHERE lease_expires_at < now()
    RETURNING id
  )
  UPDATE messages SET status = 'failed', error_code = 'turn_interrupted'
  WHERE conversation_id IN (SELECT id FROM expired) AND status = 'pending'`;

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
    lease: { owner: string; ttlMs: number },
    maxConversations: number,
  ): Promise<{ conversationId: string; messageId: string; seq: number } | null> {
    return this.repository.manager.transaction(async (manager) => {
      await lockUserQuota(manager, 'conversations', userId);
      const [row] = (await manager.query(CREATE_WITH_FIRST_MESSAGE_WITHIN_QUOTA, [
        userId,
        title,
        content,
        lease.owner,
        lease.ttlMs,
        maxConversations,
      ])) as { conversation_id: string; id: string; seq: number }[];
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
    lease: { owner: string; ttlMs: number },
    content: string,
  ): Promise<LeaseAttempt> {
    const [row] = await this.statements.rows(ACQUIRE_LEASE_AND_APPEND, [id, userId, lease.owner, lease.ttlMs, content]);
    if (row) return { state: 'acquired', messageId: row.id, seq: row.seq, interrupted: row.interrupted };
    return { state: (await this.findForUser(userId, id)) ? 'busy' : 'not_found' };
  }

  /** False when the lease is no longer this owner's (it expired and another turn took it). */
  async renewLease(id: string, owner: string, ttlMs: number): Promise<boolean> {
    const [, affected] = (await this.repository.query(
      `UPDATE conversations SET lease_expires_at = now() + make_interval(secs => $3 / 1000.0)
       WHERE id = $1 AND lease_owner = $2`,
      [id, owner, ttlMs],
    )) as [unknown[], number];
    return affected > 0;
  }

  /** The number of messages marked interrupted. */
  async failExpiredTurns(): Promise<number> {
    const [, affected] = (await this.repository.query(FAIL_EXPIRED_TURNS)) as [unknown[], number];
    return affected;
  }

  async releaseLease(id: string, owner: string): Promise<void> {
    await this.repository.query(
      `UPDATE conversations SET lease_owner = NULL, lease_expires_at = NULL WHERE id = $1 AND lease_owner = $2`,
      [id, owner],
    );
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

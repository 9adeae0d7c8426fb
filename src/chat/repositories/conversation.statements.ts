import { PreparedStatement } from '../../database/prepared-statements';

/**
 * A new conversation, its first message (pending, seq 1) and its first turn's lease, unless the user
 * already has $6 conversations (then no row). The count is an index-only scan of (user_id, updated_at).
 */
export const CREATE_WITH_FIRST_MESSAGE_WITHIN_QUOTA = new PreparedStatement<{
  conversation_id: string;
  id: string;
  seq: number;
}>(
  'chat_create_with_first_message_within_quota',
  `WITH c AS (
     INSERT INTO conversations (user_id, title, message_count, lease_owner, lease_expires_at)
     SELECT $1, $2, 1, $4, now() + make_interval(secs => $5 / 1000.0)
     WHERE (SELECT count(*) FROM conversations WHERE user_id = $1) < $6
     RETURNING id
   )
   INSERT INTO messages (conversation_id, user_id, seq, role, content, status)
   SELECT c.id, $1, 1, 'user', $3, 'pending' FROM c
   RETURNING conversation_id, id, seq`,
);

/**
 * The lease when free or expired, the dead turn's pending message marked interrupted, and the new user
 * message (pending) under the bumped counter: seqs come from the counter, under the row lock, so they
 * have no gaps or duplicates. Sibling CTEs share one snapshot, so `interrupted` never sees the row
 * `appended` inserts. No row: the lease is taken, or the conversation is not the user's.
 */
export const ACQUIRE_LEASE_AND_APPEND = new PreparedStatement<{ id: string; seq: number; interrupted: number }>(
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

export const RENEW_LEASE = new PreparedStatement(
  'chat_renew_lease',
  `UPDATE conversations SET lease_expires_at = now() + make_interval(secs => $3 / 1000.0)
   WHERE id = $1 AND lease_owner = $2`,
);

export const RELEASE_LEASE = new PreparedStatement(
  'chat_release_lease',
  `UPDATE conversations SET lease_owner = NULL, lease_expires_at = NULL WHERE id = $1 AND lease_owner = $2`,
);

/**
 * Frees the leases that expired (their replica died mid-turn) and marks those turns' pending messages
 * interrupted, across users: a sweep, not a request. The partial index on lease_expires_at keeps it
 * to the conversations with a running turn.
 */
export const FAIL_EXPIRED_TURNS = new PreparedStatement(
  'chat_fail_expired_turns',
  `
  WITH expired AS (
    UPDATE conversations SET lease_owner = NULL, lease_expires_at = NULL
    WHERE lease_expires_at < now()
    RETURNING id
  )
  UPDATE messages SET status = 'failed', error_code = 'turn_interrupted'
  WHERE conversation_id IN (SELECT id FROM expired) AND status = 'pending'`,
);

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
     INSERT INTO conversations (user_id, title, message_count, lease_owner, lease_expires_at, active_turn_id, active_turn_started_at)
     SELECT $1, $2, 1, $4, now() + make_interval(secs => $5 / 1000.0), $7, now()
     WHERE (SELECT count(*) FROM conversations WHERE user_id = $1) < $6
     RETURNING id
   )
   INSERT INTO messages (id, conversation_id, user_id, seq, role, content, status)
   SELECT $7, c.id, $1, 1, 'user', $3, 'pending' FROM c
   RETURNING conversation_id, id, seq`,
);

/**
 * The lease when free or expired, the dead turn's pending message marked interrupted, and the new user
 * message (pending) under the bumped counter: seqs come from the counter, under the row lock, so they
 * have no gaps or duplicates. The turns interrupted are their user messages (a resumed turn's paused answer is
 * pending too). Sibling CTEs share one snapshot, so `interrupted` never sees the row
 * `appended` inserts. No row: the lease is taken, a turn waits for approval, or the conversation is not the user's.
 */
export const ACQUIRE_LEASE_AND_APPEND = new PreparedStatement<{ id: string; seq: number; interrupted: string[] }>(
  'chat_acquire_lease_and_append',
  `WITH lease AS (
     UPDATE conversations
     SET lease_owner = $3, lease_expires_at = now() + make_interval(secs => $4 / 1000.0),
         message_count = message_count + 1, updated_at = now(),
         active_turn_id = $6, active_turn_started_at = now(), cancel_requested_at = NULL
     WHERE id = $1 AND user_id = $2 AND (lease_expires_at IS NULL OR lease_expires_at < now())
       AND awaiting_approval_turn_id IS NULL
     RETURNING id, message_count
   ), interrupted AS (
     UPDATE messages SET status = 'failed', error_code = 'turn_interrupted'
     WHERE conversation_id IN (SELECT id FROM lease) AND status = 'pending'
     RETURNING id, role
   ), appended AS (
     INSERT INTO messages (id, conversation_id, user_id, seq, role, content, status)
     SELECT $6, lease.id, $2, lease.message_count, 'user', $5, 'pending' FROM lease
     RETURNING id, seq
   )
   SELECT appended.id, appended.seq,
          (SELECT coalesce(array_agg(id::text), '{}') FROM interrupted WHERE role = 'user') AS interrupted
   FROM appended`,
);

/** Also tells the running turn whether it was asked to stop (the fallback when no notification reached it). */
export const RENEW_LEASE = new PreparedStatement<{ cancel_requested: boolean }>(
  'chat_renew_lease',
  `UPDATE conversations SET lease_expires_at = now() + make_interval(secs => $3 / 1000.0)
   WHERE id = $1 AND lease_owner = $2
   RETURNING cancel_requested_at IS NOT NULL AS cancel_requested`,
);

export const RELEASE_LEASE = new PreparedStatement(
  'chat_release_lease',
  `UPDATE conversations
   SET lease_owner = NULL, lease_expires_at = NULL, active_turn_id = NULL, active_turn_started_at = NULL,
       cancel_requested_at = NULL
   WHERE id = $1 AND lease_owner = $2`,
);

/** Marks the running turn (one given, or whichever runs) to stop, and tells the replicas ($4) at commit. */
export const REQUEST_CANCEL = new PreparedStatement<{ turn_id: string }>(
  'chat_request_cancel',
  `UPDATE conversations SET cancel_requested_at = coalesce(cancel_requested_at, now())
   WHERE id = $1 AND user_id = $2 AND active_turn_id = coalesce($3::uuid, active_turn_id) AND lease_expires_at > now()
   RETURNING active_turn_id::text AS turn_id, pg_notify($4, active_turn_id::text)`,
);

/** Of the given running turns (conversation, owner), those asked to stop: the poll when LISTEN is not available. */
export const CANCEL_REQUESTED = new PreparedStatement<{ turn_id: string }>(
  'chat_cancel_requested',
  `SELECT active_turn_id::text AS turn_id FROM conversations
   WHERE (id, user_id) IN (SELECT * FROM unnest($1::uuid[], $2::text[])) AND cancel_requested_at IS NOT NULL`,
);

/**
 * Frees the leases that expired (their replica died mid-turn) and marks those turns' pending messages
 * interrupted, across users: a sweep, not a request. The partial index on lease_expires_at keeps it
 * to the conversations with a running turn.
 */
export const FAIL_EXPIRED_TURNS = new PreparedStatement<{ id: string; conversation_id: string; user_id: string }>(
  'chat_fail_expired_turns',
  `
  WITH expired AS (
    UPDATE conversations
    SET lease_owner = NULL, lease_expires_at = NULL, active_turn_id = NULL, active_turn_started_at = NULL,
        cancel_requested_at = NULL
    WHERE lease_expires_at < now()
    RETURNING id
  ), failed AS (
    UPDATE messages SET status = 'failed', error_code = 'turn_interrupted'
    WHERE conversation_id IN (SELECT id FROM expired) AND status = 'pending'
    RETURNING id, conversation_id, user_id, role
  )
  SELECT id, conversation_id, user_id FROM failed WHERE role = 'user'`,
);

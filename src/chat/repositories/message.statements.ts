import { PreparedStatement } from '../../database/prepared-statements';
import type { MessageEntity } from '../entities/message.entity';

export interface StoredMessageRef {
  id: string;
  seq: number;
}

export type StoredTurn = Pick<MessageEntity, 'id' | 'seq' | 'status'> & {
  error_code: string | null;
  last_event_id: number | null;
};

export type StoredAnswer = Pick<MessageEntity, 'id' | 'content'> & {
  tool_calls: MessageEntity['toolCalls'];
  stop_reason: string | null;
  usage: MessageEntity['usage'];
};

/** A stored message in the form the context window needs. */
export type ContextRow = Pick<MessageEntity, 'seq' | 'role' | 'content' | 'transcript'>;

/** The newest completed messages before a seq (failed and paused turns never reach the model), newest first. */
export const CONTEXT_ROWS = new PreparedStatement<ContextRow>(
  'chat_context_rows',
  `SELECT seq, role, content, transcript FROM messages
   WHERE conversation_id = $1 AND user_id = $2 AND seq < $3 AND status = 'completed' AND paused_turn IS NULL
   ORDER BY seq DESC LIMIT $4`,
);

/**
 * The answer, the user message's completion and the lease's release together, only while the lease is
 * still this turn's: sibling CTEs all run, so every write is conditioned on `c` having matched. A resumed turn
 * ($11) updates its paused answer in place; one that pauses ($12) stores its approvals ($14..$18, expiring
 * after $13 ms) and marks the conversation as waiting for them.
 */
export const COMPLETE_TURN = new PreparedStatement<StoredMessageRef & { approvals_expire_at: Date }>(
  'chat_complete_turn',
  `
  WITH c AS (
    UPDATE conversations
    SET message_count = message_count + CASE WHEN $11::uuid IS NULL THEN 1 ELSE 0 END, updated_at = now(),
        lease_owner = NULL, lease_expires_at = NULL, active_turn_id = NULL, active_turn_started_at = NULL,
        cancel_requested_at = NULL, awaiting_approval_turn_id = CASE WHEN $12::jsonb IS NULL THEN NULL ELSE $4::uuid END
    WHERE id = $1 AND user_id = $2 AND lease_owner = $3
    RETURNING message_count, now() + make_interval(secs => $13 / 1000.0) AS approvals_expire_at
  ), answered AS (
    UPDATE messages SET status = 'completed' WHERE id = $4 AND user_id = $2 AND EXISTS (SELECT 1 FROM c)
  ), asked AS (
    INSERT INTO approvals (id, user_id, conversation_id, turn_id, tool_call_id, tool, server, arguments, status, expires_at)
    SELECT a.id, $2, $1, $4, a.tool_call_id, a.tool, a.server, a.arguments, 'pending', c.approvals_expire_at
    FROM c, unnest($14::uuid[], $15::text[], $16::text[], $17::text[], $18::jsonb[]) AS a(id, tool_call_id, tool, server, arguments)
  ), inserted AS (
    INSERT INTO messages (conversation_id, user_id, seq, role, content, status, tool_calls, model, stop_reason, usage, transcript, paused_turn)
    SELECT $1, $2, c.message_count, 'assistant', $5, 'completed', $6::jsonb, $7, $8, $9::jsonb, $10::jsonb, $12::jsonb
    FROM c WHERE $11::uuid IS NULL
    RETURNING id, seq
  ), updated AS (
    UPDATE messages
    SET content = $5, status = 'completed', tool_calls = $6::jsonb, model = $7, stop_reason = $8, usage = $9::jsonb,
        transcript = $10::jsonb, paused_turn = $12::jsonb
    WHERE id = $11::uuid AND user_id = $2 AND conversation_id = $1 AND EXISTS (SELECT 1 FROM c)
    RETURNING id, seq
  )
  SELECT answer.id, answer.seq, c.approvals_expire_at
  FROM (SELECT * FROM inserted UNION ALL SELECT * FROM updated) answer, c`,
);

/** A turn is its user message: its state, for the events and cancel routes. */
export const FIND_TURN = new PreparedStatement<StoredTurn>(
  'chat_find_turn',
  `SELECT id, seq, status, error_code, last_event_id FROM messages
   WHERE id = $1 AND user_id = $2 AND conversation_id = $3 AND role = 'user'`,
);

/** The answer of a turn: the assistant message right after its user message. */
export const TURN_ANSWER = new PreparedStatement<StoredAnswer>(
  'chat_turn_answer',
  `SELECT id, content, tool_calls, stop_reason, usage FROM messages
   WHERE conversation_id = $1 AND user_id = $2 AND seq = $3 AND role = 'assistant'`,
);

/**
 * The turn a reconnecting client started: the newest of the conversation's last few messages with that text,
 * sent within the events TTL ($4, ms). Bounded to the conversation's newest rows, whatever its length.
 */
export const RECONNECT_TURN_IN_CONVERSATION = new PreparedStatement<{ id: string; conversation_id: string }>(
  'chat_reconnect_turn_in_conversation',
  `SELECT id, conversation_id FROM (
     SELECT id, conversation_id, role, content, created_at, seq FROM messages
     WHERE conversation_id = $1 AND user_id = $2 ORDER BY seq DESC LIMIT 4
   ) newest
   WHERE role = 'user' AND content = $3 AND created_at > now() - make_interval(secs => $4 / 1000.0)
   ORDER BY seq DESC LIMIT 1`,
);

/** The same for a reconnect that started a conversation: the first message of one of the user's newest. */
export const RECONNECT_TURN_IN_NEW_CONVERSATION = new PreparedStatement<{ id: string; conversation_id: string }>(
  'chat_reconnect_turn_in_new_conversation',
  `SELECT m.id, m.conversation_id FROM (
     SELECT id FROM conversations WHERE user_id = $1 ORDER BY updated_at DESC LIMIT 4
   ) c
   JOIN messages m ON m.conversation_id = c.id AND m.user_id = $1 AND m.seq = 1
   WHERE m.content = $2 AND m.created_at > now() - make_interval(secs => $3 / 1000.0)
   ORDER BY m.created_at DESC LIMIT 1`,
);

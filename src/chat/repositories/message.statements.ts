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

/** The newest completed messages before a seq (failed turns never reach the model), newest first. */
export const CONTEXT_ROWS = new PreparedStatement<ContextRow>(
  'chat_context_rows',
  `SELECT seq, role, content, transcript FROM messages
   WHERE conversation_id = $1 AND user_id = $2 AND seq < $3 AND status = 'completed'
   ORDER BY seq DESC LIMIT $4`,
);

/**
 * The answer, the user message's completion and the lease's release together, only while the lease is
 * still this turn's: sibling CTEs all run, so `answered` is conditioned on `c` having matched.
 */
export const COMPLETE_TURN = new PreparedStatement<StoredMessageRef>(
  'chat_complete_turn',
  `
  WITH c AS (
    UPDATE conversations
    SET message_count = message_count + 1, updated_at = now(), lease_owner = NULL, lease_expires_at = NULL,
        active_turn_id = NULL, active_turn_started_at = NULL, cancel_requested_at = NULL
    WHERE id = $1 AND user_id = $2 AND lease_owner = $3
    RETURNING message_count
  ), answered AS (
    UPDATE messages SET status = 'completed' WHERE id = $4 AND user_id = $2 AND EXISTS (SELECT 1 FROM c)
  )
  INSERT INTO messages (conversation_id, user_id, seq, role, content, status, tool_calls, model, stop_reason, usage, transcript)
  SELECT $1, $2, c.message_count, 'assistant', $5, 'completed', $6::jsonb, $7, $8, $9::jsonb, $10::jsonb FROM c
  RETURNING id, seq`,
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

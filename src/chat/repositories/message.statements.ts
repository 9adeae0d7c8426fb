import { PreparedStatement } from '../../database/prepared-statements';
import type { MessageEntity } from '../entities/message.entity';

export interface StoredMessageRef {
  id: string;
  seq: number;
}

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

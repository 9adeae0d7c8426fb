import { PreparedStatement } from '../../database/prepared-statements';
import type { TurnEventRecord } from './turn-event';

/**
 * A batch of a turn's events in one statement, the turn's terminal id on its user message when the batch ends
 * it ($8), and a notification to the other replicas, sent when this commits.
 */
export const APPEND_TURN_EVENTS = new PreparedStatement<{ appended: number }>(
  'chat_append_turn_events',
  `WITH appended AS (
     INSERT INTO turn_events (turn_id, conversation_id, user_id, seq, type, data)
     SELECT $1, $2, $3, e.seq, e.type, e.data
     FROM unnest($4::int[], $5::text[], $6::json[]) AS e(seq, type, data)
     RETURNING seq
   ), terminal AS (
     UPDATE messages SET last_event_id = $8
     WHERE $8::int IS NOT NULL AND id = $1 AND user_id = $3 AND conversation_id = $2
   )
   SELECT count(*)::int AS appended, pg_notify($7, $1::text) FROM appended`,
);

/** The events of a turn after a seq, oldest first. */
export const TURN_EVENTS_AFTER = new PreparedStatement<TurnEventRecord>(
  'chat_turn_events_after',
  `SELECT seq, type, data FROM turn_events
   WHERE turn_id = $1 AND user_id = $2 AND conversation_id = $3 AND seq > $4
   ORDER BY seq LIMIT $5`,
);

/**
 * A turn that ended without its terminal event in the log (its replica was killed) gets one ($6, $4), after
 * its last: concurrent sealers collide on the primary key and only one wins. A terminal event in the log ends
 * it only while its message names it: a resumed turn's log holds its pause's, whose id the resume cleared.
 */
export const SEAL_TURN = new PreparedStatement<{ seq: number }>(
  'chat_seal_turn',
  `WITH last AS (
     SELECT coalesce(max(seq), 0) AS seq,
            bool_or(type IN ('turn.completed', 'turn.failed'))
              AND (SELECT last_event_id FROM messages WHERE id = $1 AND user_id = $3) IS NOT NULL AS ended
     FROM turn_events WHERE turn_id = $1 AND user_id = $3
   ), sealed AS (
     INSERT INTO turn_events (turn_id, conversation_id, user_id, seq, type, data)
     SELECT $1, $2, $3, last.seq + 1, $6, $4::json FROM last WHERE last.ended IS NOT TRUE
     ON CONFLICT DO NOTHING
     RETURNING seq
   ), terminal AS (
     UPDATE messages SET last_event_id = (SELECT seq FROM sealed)
     WHERE id = $1 AND user_id = $3 AND EXISTS (SELECT 1 FROM sealed)
   )
   SELECT seq, pg_notify($5, $1::text) FROM sealed`,
);

/** The logs of turns that ended more than the TTL ago; the partial index finds their terminal events. */
export const EXPIRE_TURN_EVENTS = new PreparedStatement(
  'chat_expire_turn_events',
  `DELETE FROM turn_events WHERE turn_id IN (
     SELECT turn_id FROM turn_events
     WHERE type IN ('turn.completed', 'turn.failed') AND created_at < now() - make_interval(secs => $1 / 1000.0)
   )`,
);

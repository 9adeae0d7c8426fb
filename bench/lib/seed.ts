import type { Pool } from 'pg';

export interface SeedOptions {
  userIds: string[];
  /** Conversations per user. */
  perUser?: number;
  /** Completed messages per conversation, alternating user / assistant, seq 1..n. */
  messages: number;
  userChars?: number;
  assistantChars?: number;
}

export interface SeededConversation {
  id: string;
  userId: string;
}

/**
 * Conversations with `messages` completed messages each, written by two INSERT … SELECT statements
 * over generate_series (100,000 messages take seconds), `message_count` in step with the highest seq
 * as the service keeps it, then ANALYZE so the planner sees the sizes a live database would have.
 */
export async function seedConversations(pool: Pool, options: SeedOptions): Promise<SeededConversation[]> {
  const { userIds, perUser = 1, messages, userChars = 60, assistantChars = 60 } = options;
  const { rows } = await pool.query<{ id: string; user_id: string }>(
    `INSERT INTO conversations (user_id, title, message_count, created_at, updated_at)
     SELECT u.user_id, 'seeded ' || g, $2::int, now() - interval '1 day', now() - make_interval(secs => g)
     FROM unnest($1::text[]) AS u(user_id), generate_series(1, $3::int) AS g
     RETURNING id, user_id`,
    [userIds, messages, perUser],
  );
  if (messages > 0) {
    await pool.query(
      `INSERT INTO messages (conversation_id, user_id, seq, role, content, status, created_at)
       SELECT c.id, c.user_id, g,
              CASE WHEN g % 2 = 1 THEN 'user' ELSE 'assistant' END,
              rpad('message ' || g || ': ', CASE WHEN g % 2 = 1 THEN $4::int ELSE $5::int END,
                   'the quick brown fox jumps over the lazy dog '),
              'completed', now() - interval '1 day' + make_interval(secs => g)
       FROM unnest($1::uuid[], $2::text[]) AS c(id, user_id), generate_series(1, $3::int) AS g`,
      [rows.map((row) => row.id), rows.map((row) => row.user_id), messages, userChars, assistantChars],
    );
  }
  await pool.query('ANALYZE conversations');
  await pool.query('ANALYZE messages');
  return rows.map((row) => ({ id: row.id, userId: row.user_id }));
}

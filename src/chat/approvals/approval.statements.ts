import { PreparedStatement } from '../../database/prepared-statements';
import type { PausedTurnState, StoredToolCall, StoredUsage, TranscriptMessage } from '../entities/message.entity';
import type { ApprovalStatus } from './approval.entity';

export interface ApprovalRow {
  id: string;
  turn_id: string;
  tool_call_id: string;
  status: ApprovalStatus;
  expired: boolean;
}

export interface PendingApprovalRow {
  id: string;
  conversation_id: string;
  tool_call_id: string;
  tool: string;
  server: string;
  arguments: Record<string, unknown>;
  expires_at: Date;
}

/** A paused turn as its resume needs it: the user message, and the paused answer right after it. */
export interface PausedTurnRow {
  seq: number;
  content: string;
  events_after: number;
  answer_id: string;
  answer_content: string;
  tool_calls: StoredToolCall[];
  usage: StoredUsage | null;
  transcript: TranscriptMessage[];
  paused_turn: PausedTurnState;
}

/** Decisions on one conversation are taken one at a time: its row is the lock. */
export const LOCK_CONVERSATION = new PreparedStatement<{ awaiting_approval_turn_id: string | null }>(
  'chat_lock_conversation_for_approvals',
  `SELECT awaiting_approval_turn_id FROM conversations WHERE id = $1 AND user_id = $2 FOR UPDATE`,
);

/** The approvals named ($3), and those the waiting turn ($4) still waits on. */
export const APPROVALS_FOR_DECISION = new PreparedStatement<ApprovalRow>(
  'chat_approvals_for_decision',
  `SELECT id, turn_id, tool_call_id, status, expires_at <= now() AS expired FROM approvals
   WHERE user_id = $1 AND conversation_id = $2
     AND (id = ANY($3::uuid[]) OR (turn_id = $4::uuid AND status = 'pending'))`,
);

export const SETTLE_APPROVALS = new PreparedStatement(
  'chat_settle_approvals',
  `UPDATE approvals SET status = d.status, reason = d.reason, decided_at = now()
   FROM unnest($3::uuid[], $4::text[], $5::text[]) AS d(id, status, reason)
   WHERE approvals.id = d.id AND approvals.user_id = $1 AND approvals.conversation_id = $2
     AND approvals.status = 'pending'`,
);

/**
 * The lease for the paused turn ($3) and its two messages reopened (pending again, the terminal id cleared so
 * the events route follows instead of answering 204); returns them as they were (sibling CTEs share a snapshot).
 * No row: the lease is held by someone.
 */
export const TAKE_PAUSED_TURN = new PreparedStatement<PausedTurnRow>(
  'chat_take_paused_turn',
  `WITH c AS (
     UPDATE conversations
     SET lease_owner = $4, lease_expires_at = now() + make_interval(secs => $5 / 1000.0), active_turn_id = $3,
         active_turn_started_at = now(), cancel_requested_at = NULL, awaiting_approval_turn_id = NULL
     WHERE id = $1 AND user_id = $2 AND awaiting_approval_turn_id = $3
       AND (lease_expires_at IS NULL OR lease_expires_at < now())
     RETURNING id
   ), turn AS (
     SELECT u.seq, u.content,
            coalesce(u.last_event_id, (SELECT max(seq) FROM turn_events WHERE turn_id = $3 AND user_id = $2), 0)
              AS events_after
     FROM messages u WHERE u.id = $3 AND u.user_id = $2 AND u.conversation_id = $1 AND u.role = 'user'
   ), reopened AS (
     UPDATE messages SET status = 'pending', last_event_id = NULL
     WHERE conversation_id IN (SELECT id FROM c) AND user_id = $2
       AND (id = $3 OR (role = 'assistant' AND seq = (SELECT seq FROM turn) + 1))
   )
   SELECT turn.seq, turn.content, turn.events_after, a.id AS answer_id, a.content AS answer_content, a.tool_calls,
          a.usage, a.transcript, a.paused_turn
   FROM c, turn
   JOIN messages a ON a.conversation_id = $1 AND a.user_id = $2 AND a.seq = turn.seq + 1 AND a.role = 'assistant'
   WHERE a.paused_turn IS NOT NULL`,
);

/** What the conversations ($2) of a user wait on, oldest first. */
export const PENDING_APPROVALS = new PreparedStatement<PendingApprovalRow>(
  'chat_pending_approvals',
  `SELECT id, conversation_id, tool_call_id, tool, server, arguments, expires_at FROM approvals
   WHERE user_id = $1 AND conversation_id = ANY($2::uuid[]) AND status = 'pending'
   ORDER BY created_at, tool_call_id`,
);

/** The conversations with an approval past its expiry, across users: a sweep, not a request. */
export const EXPIRED_PAUSES = new PreparedStatement<{ user_id: string; conversation_id: string }>(
  'chat_expired_pauses',
  `SELECT DISTINCT user_id, conversation_id FROM approvals
   WHERE status = 'pending' AND expires_at <= now() LIMIT $1`,
);

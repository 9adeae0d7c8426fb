import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { ToolCallDecision } from '../../agent/agent-turn';
import { AgentService } from '../../agent/agent.service';
import type { AuthUser } from '../../auth/auth-user';
import { AppConfig } from '../../config/app-config';
import { Metrics } from '../../metrics/metrics';
import {
  approvalNotFound,
  approvalNotPending,
  conversationBusy,
  conversationNotFound,
  decisionsMissing,
  modelNotConfigured,
} from '../chat.errors';
import type { HeldTurn, SendMessageCommand, TurnResume } from '../turns/started-turn';
import { TurnLeaseService } from '../turns/turn-lease.service';
import {
  ApprovalRepository,
  type ApprovalTransaction,
  type PausedTurnRow,
  type Settlement,
} from './approval.repository';
import { ranToolCalls } from './paused-tool-calls';

export interface ApprovalDecision {
  approvalId: string;
  approved: boolean;
  reason?: string;
}

/** Why a pause ends without its calls running (SPEC §5.3): its waiting calls are stored denied, with `result`. */
const CLOSED = {
  cancelled: {
    status: 'denied',
    reason: 'cancelled',
    result: 'Not run: the turn was cancelled before the user decided.',
  },
  expired: { status: 'expired', reason: null, result: 'Not run: the approval expired before the user decided.' },
} as const;
export type CloseReason = keyof typeof CLOSED;

/** A paused turn taken in the transaction: its lease (owner) and what it resumes from. */
interface Claim {
  turnId: string;
  owner: string;
  paused: PausedTurnRow;
  decisions: Record<string, ToolCallDecision>;
  closedResult?: string;
}

/**
 * Takes a paused turn up again: its approvals settled and its lease taken under the conversation's row lock,
 * so a decision is used once, on whichever replica receives it. The caller runs the HeldTurn.
 */
@Injectable()
export class PausedTurns {
  constructor(
    private readonly approvals: ApprovalRepository,
    private readonly leases: TurnLeaseService,
    private readonly agent: AgentService,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  /** 404 for an unknown conversation or approval, 409 for one not pending, 400 when one of the turn's is missing. */
  async decide(
    user: AuthUser,
    conversationId: string,
    decisions: readonly ApprovalDecision[],
    origin: SendMessageCommand['origin'],
  ): Promise<HeldTurn> {
    const claim = await this.approvals.inTransaction(user.userId, conversationId, async (transaction) => {
      const lock = await transaction.lockConversation();
      if (!lock) throw conversationNotFound(conversationId);
      // Nothing is decided when the resumed turn could not call the model.
      if (!this.agent.configured) throw modelNotConfigured();
      const ids = decisions.map((decision) => decision.approvalId);
      const rows = new Map((await transaction.approvalsFor(ids, lock.awaitingTurnId)).map((row) => [row.id, row]));
      const unknown = ids.filter((id) => !rows.has(id));
      if (unknown.length > 0) throw approvalNotFound(unknown);
      const stale = ids.filter((id) => {
        const row = rows.get(id);
        return row?.status !== 'pending' || row.expired || row.turn_id !== lock.awaitingTurnId;
      });
      const turnId = lock.awaitingTurnId;
      if (stale.length > 0 || !turnId) throw approvalNotPending(stale);
      const missing = [...rows.keys()].filter((id) => !ids.includes(id));
      if (missing.length > 0) throw decisionsMissing(missing);

      await transaction.settle(
        decisions.map((decision) => ({
          id: decision.approvalId,
          status: decision.approved ? 'approved' : 'denied',
          reason: decision.reason ?? null,
        })),
      );
      const byToolCall = Object.fromEntries(
        decisions.map((decision) => [
          rows.get(decision.approvalId)?.tool_call_id,
          { approved: decision.approved, ...(decision.reason && { reason: decision.reason }) },
        ]),
      );
      return this.take(transaction, turnId, { decisions: byToolCall });
    });
    for (const decision of decisions) {
      this.metrics.approvals.inc({ outcome: decision.approved ? 'approved' : 'denied' });
    }
    return this.held(user, conversationId, claim, origin);
  }

  /**
   * Ends a pause without running its calls: `cancelled` (the turn given, or null when it is not paused) or
   * `expired` (null while one of its approvals is still in time).
   */
  async close(
    user: AuthUser,
    conversationId: string,
    reason: CloseReason,
    origin: SendMessageCommand['origin'],
    turnId?: string,
  ): Promise<HeldTurn | null> {
    const closed = CLOSED[reason];
    const outcome = await this.approvals.inTransaction(user.userId, conversationId, async (transaction) => {
      const lock = await transaction.lockConversation();
      const awaiting = lock?.awaitingTurnId;
      if (!awaiting || (turnId !== undefined && awaiting !== turnId)) return null;
      const pending = await transaction.approvalsFor([], awaiting);
      if (reason === 'expired' && pending.some((row) => !row.expired)) return null;
      const settlements: Settlement[] = pending.map((row) => ({ id: row.id, ...closed, reason: closed.reason }));
      await transaction.settle(settlements);
      const claim = await this.take(transaction, awaiting, { decisions: {}, closedResult: closed.result });
      return { claim, count: settlements.length };
    });
    if (!outcome) return null;
    this.metrics.approvals.inc({ outcome: closed.status }, outcome.count);
    return this.held(user, conversationId, outcome.claim, origin);
  }

  /** What a message refused with `approval_pending` names. */
  async pendingApprovalIds(userId: string, conversationId: string): Promise<string[]> {
    return (await this.approvals.pendingFor(userId, [conversationId])).map((row) => row.id);
  }

  /** The lease and the paused turn's state, in the transaction; 409 while another turn holds the lease. */
  private async take(
    transaction: ApprovalTransaction,
    turnId: string,
    how: Pick<Claim, 'decisions' | 'closedResult'>,
  ): Promise<Claim> {
    const owner = randomUUID();
    const paused = await transaction.takePausedTurn(turnId, { owner, ttlMs: this.config.chat.leaseTtlMs });
    if (!paused) throw conversationBusy();
    return { turnId, owner, paused, ...how };
  }

  /** Once committed: only then is the lease renewed by this replica. */
  private held(user: AuthUser, conversationId: string, claim: Claim, origin: SendMessageCommand['origin']): HeldTurn {
    const { turnId, paused } = claim;
    return {
      user,
      command: { message: paused.content, conversationId, origin },
      lease: this.leases.hold(conversationId, claim.owner),
      userMessage: { id: turnId, seq: paused.seq },
      ref: { userId: user.userId, conversationId, turnId },
      resume: resumeOf(paused, claim.decisions, claim.closedResult),
    };
  }
}

function resumeOf(
  paused: PausedTurnRow,
  decisions: Record<string, ToolCallDecision>,
  closedResult: string | undefined,
): TurnResume {
  const state = {
    transcript: paused.transcript,
    toolCalls: ranToolCalls(paused.tool_calls),
    text: paused.answer_content,
    usage: paused.usage ?? {
      input_tokens: 0,
      output_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
    },
    toolRounds: paused.paused_turn.tool_rounds,
    decisions,
  };
  const waiting = paused.paused_turn.pending.filter((call) => call.needsApproval);
  return {
    answerMessageId: paused.answer_id,
    eventsAfter: paused.events_after,
    state,
    ...(closedResult !== undefined && { closed: { calls: waiting, result: closedResult } }),
  };
}

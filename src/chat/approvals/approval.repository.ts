import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PreparedStatements, type StatementRunner } from '../../database/prepared-statements';
import type { ApprovalStatus } from './approval.entity';
import {
  APPROVALS_FOR_DECISION,
  EXPIRED_PAUSES,
  LOCK_CONVERSATION,
  PENDING_APPROVALS,
  SETTLE_APPROVALS,
  TAKE_PAUSED_TURN,
  type ApprovalRow,
  type PausedTurnRow,
  type PendingApprovalRow,
} from './approval.statements';

export type { ApprovalRow, PausedTurnRow, PendingApprovalRow } from './approval.statements';

export interface Settlement {
  id: string;
  status: Exclude<ApprovalStatus, 'pending'>;
  reason: string | null;
}

/** The statements of one decision, in one transaction: every one names the owner. */
export class ApprovalTransaction {
  constructor(
    private readonly statements: StatementRunner,
    readonly userId: string,
    readonly conversationId: string,
  ) {}

  /** Undefined when the conversation is not the user's; else the turn it waits on (or null). */
  async lockConversation(): Promise<{ awaitingTurnId: string | null } | undefined> {
    const [row] = await this.statements.rows(LOCK_CONVERSATION, [this.conversationId, this.userId]);
    return row && { awaitingTurnId: row.awaiting_approval_turn_id };
  }

  approvalsFor(ids: readonly string[], awaitingTurnId: string | null): Promise<ApprovalRow[]> {
    return this.statements.rows(APPROVALS_FOR_DECISION, [this.userId, this.conversationId, ids, awaitingTurnId]);
  }

  async settle(settlements: readonly Settlement[]): Promise<void> {
    await this.statements.rowCount(SETTLE_APPROVALS, [
      this.userId,
      this.conversationId,
      settlements.map((settlement) => settlement.id),
      settlements.map((settlement) => settlement.status),
      settlements.map((settlement) => settlement.reason),
    ]);
  }

  /** Null when another turn holds the lease. */
  async takePausedTurn(turnId: string, lease: { owner: string; ttlMs: number }): Promise<PausedTurnRow | null> {
    const [row] = await this.statements.rows(TAKE_PAUSED_TURN, [
      this.conversationId,
      this.userId,
      turnId,
      lease.owner,
      lease.ttlMs,
    ]);
    return row ?? null;
  }
}

@Injectable()
export class ApprovalRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly statements: PreparedStatements,
  ) {}

  /** Locks the conversation's row for `work`; a throw rolls everything back. */
  inTransaction<T>(
    userId: string,
    conversationId: string,
    work: (transaction: ApprovalTransaction) => Promise<T>,
  ): Promise<T> {
    return this.dataSource.transaction((manager) =>
      work(new ApprovalTransaction(this.statements.inTransaction(manager), userId, conversationId)),
    );
  }

  pendingFor(userId: string, conversationIds: readonly string[]): Promise<PendingApprovalRow[]> {
    if (conversationIds.length === 0) return Promise.resolve([]);
    return this.statements.rows(PENDING_APPROVALS, [userId, conversationIds]);
  }

  async expiredPauses(limit: number): Promise<{ userId: string; conversationId: string }[]> {
    const rows = await this.statements.rows(EXPIRED_PAUSES, [limit]);
    return rows.map((row) => ({ userId: row.user_id, conversationId: row.conversation_id }));
  }
}

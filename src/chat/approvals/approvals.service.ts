import { Injectable, Logger } from '@nestjs/common';
import type { AuthUser } from '../../auth/auth-user';
import { RunningTurns } from '../turns/running-turns';
import { StartedTurn, type SendMessageCommand } from '../turns/started-turn';
import type { TurnRef } from '../turn-events/turn-event';
import { TurnService } from '../turns/turn.service';
import { PausedTurns, type ApprovalDecision, type CloseReason } from './paused-turns';

/** SPEC §5.3: the user's decisions resume a paused turn here; a cancel or the expiry ends it unrun. */
@Injectable()
export class ApprovalsService {
  private readonly logger = new Logger(ApprovalsService.name);

  constructor(
    private readonly pausedTurns: PausedTurns,
    private readonly turns: TurnService,
    private readonly runningTurns: RunningTurns,
  ) {}

  /** The resumed turn, with its lease held: run it (JSON) or stream it, like a new message's turn. */
  async decide(
    user: AuthUser,
    conversationId: string,
    decisions: readonly ApprovalDecision[],
    origin: SendMessageCommand['origin'],
  ): Promise<StartedTurn> {
    this.runningTurns.assertAccepting();
    return new StartedTurn(this.turns, await this.pausedTurns.decide(user, conversationId, decisions, origin));
  }

  /** False when the turn is not paused (the caller cancels a running one); else it is stored as cancelled. */
  async cancelPaused(user: AuthUser, ref: TurnRef, origin: SendMessageCommand['origin']): Promise<boolean> {
    return this.close(user, ref.conversationId, 'cancelled', origin, ref.turnId);
  }

  /** Stores the pause as ended (no model call) and ends its streams with `turn.completed`. */
  async close(
    user: AuthUser,
    conversationId: string,
    reason: CloseReason,
    origin: SendMessageCommand['origin'],
    turnId?: string,
  ): Promise<boolean> {
    const held = await this.pausedTurns.close(user, conversationId, reason, origin, turnId);
    if (!held) return false;
    await this.turns.run(held);
    this.logger.debug(`closed the paused turn ${held.ref.turnId} (${reason})`);
    return true;
  }
}

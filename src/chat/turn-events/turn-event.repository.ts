import { Injectable } from '@nestjs/common';
import { PreparedStatements } from '../../database/prepared-statements';
import { isTerminal, TURN_EVENTS_CHANNEL, type TurnEventRecord, type TurnRef } from './turn-event';
import { APPEND_TURN_EVENTS, EXPIRE_TURN_EVENTS, SEAL_TURN, TURN_EVENTS_AFTER } from './turn-event.statements';

/** A replay reads the log in pages of this many events. */
export const REPLAY_PAGE_SIZE = 500;

/** The turn_events table: every query names the turn's owner and conversation. */
@Injectable()
export class TurnEventRepository {
  constructor(private readonly statements: PreparedStatements) {}

  async append({ turnId, conversationId, userId }: TurnRef, events: readonly TurnEventRecord[]): Promise<void> {
    const terminal = events.find(isTerminal);
    await this.statements.rows(APPEND_TURN_EVENTS, [
      turnId,
      conversationId,
      userId,
      events.map((event) => event.seq),
      events.map((event) => event.type),
      events.map((event) => JSON.stringify(event.data)),
      TURN_EVENTS_CHANNEL,
      terminal?.seq ?? null,
    ]);
  }

  after(
    { turnId, conversationId, userId }: TurnRef,
    seq: number,
    limit = REPLAY_PAGE_SIZE,
  ): Promise<TurnEventRecord[]> {
    return this.statements.rows(TURN_EVENTS_AFTER, [turnId, userId, conversationId, seq, limit]);
  }

  /** The seq of the terminal event appended, or null when the turn already had one. */
  async seal(
    { turnId, conversationId, userId }: TurnRef,
    terminal: { type: 'turn.completed' | 'turn.failed'; data: unknown },
  ): Promise<number | null> {
    const [row] = await this.statements.rows(SEAL_TURN, [
      turnId,
      conversationId,
      userId,
      JSON.stringify(terminal.data),
      TURN_EVENTS_CHANNEL,
      terminal.type,
    ]);
    return row?.seq ?? null;
  }

  /** The number of events deleted. */
  expire(ttlMs: number): Promise<number> {
    return this.statements.rowCount(EXPIRE_TURN_EVENTS, [ttlMs]);
  }
}

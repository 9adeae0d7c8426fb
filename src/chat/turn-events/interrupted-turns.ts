import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { toProblem } from '../../common/problem/problem';
import { storedTurnFailure, turnFailed } from '../chat.errors';
import type { TurnRef } from './turn-event';
import { TurnEventHub } from './turn-event-hub';
import { TurnEventRepository } from './turn-event.repository';

/** Ends the event log of turns whose replica died, so their viewers get `turn.failed` instead of waiting. */
@Injectable()
export class InterruptedTurns {
  private readonly logger = new Logger(InterruptedTurns.name);

  constructor(
    private readonly log: TurnEventRepository,
    private readonly hub: TurnEventHub,
  ) {}

  /** Best effort: a turn left unsealed still ends for a viewer that attaches (its terminal is rebuilt). */
  async seal(turns: readonly TurnRef[]): Promise<void> {
    for (const turn of turns) {
      try {
        await this.log.seal(turn, { type: 'turn.failed', data: interruptedProblem(turn) });
        this.hub.changed(turn.turnId);
      } catch (error) {
        this.logger.warn({ err: error }, `could not end the event log of interrupted turn ${turn.turnId}`);
      }
    }
  }
}

/** No request carries this failure: it gets a request id of its own, which the log line above names. */
export function interruptedProblem(turn: TurnRef): unknown {
  const error = turnFailed(storedTurnFailure('turn_interrupted'), undefined, {
    conversationId: turn.conversationId,
    userMessageId: turn.turnId,
  });
  return toProblem(error, randomUUID(), turnEventsPath(turn)).problem;
}

export function turnEventsPath({ userId, conversationId, turnId }: TurnRef): string {
  return `/api/${encodeURIComponent(userId)}/chat/${conversationId}/turns/${turnId}/events`;
}

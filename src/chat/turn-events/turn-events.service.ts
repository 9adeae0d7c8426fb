import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { toProblem } from '../../common/problem/problem';
import { AppConfig } from '../../config/app-config';
import { storedTurnFailure, turnFailed, turnNotFound } from '../chat.errors';
import { toChatTurnDto } from '../chat.mapper';
import { MessageRepository, type StoredTurn } from '../repositories/message.repository';
import { interruptedProblem, turnEventsPath } from './interrupted-turns';
import type { TurnEventRecord, TurnRef } from './turn-event';
import { TurnEventHub } from './turn-event-hub';
import { TurnEventWriter } from './turn-event-writer';
import { TurnEventRepository } from './turn-event.repository';
import { TurnFollower } from './turn-follower';

/** A turn that ended is given this long to write its terminal event before a viewer writes one for it. */
const TERMINAL_GRACE_MS = 3_000;
const TERMINAL_POLL_MS = 20;

/** Stored as ended (completed or failed), its terminal event not yet in the log. */
function endingUnlogged(turn: StoredTurn): boolean {
  return turn.status !== 'pending' && turn.last_event_id === null;
}

type Terminal = Pick<TurnEventRecord, 'type' | 'data'> & { type: 'turn.completed' | 'turn.failed' };

/** A turn's event log: written by the turn as it runs, replayed and followed by any replica (SPEC §5.2). */
@Injectable()
export class TurnEvents {
  private readonly logger = new Logger(TurnEvents.name);

  constructor(
    private readonly hub: TurnEventHub,
    private readonly log: TurnEventRepository,
    private readonly messages: MessageRepository,
    private readonly config: AppConfig,
  ) {}

  /** `after`: the last event the turn already logged (a paused turn that resumes), numbered on from there. */
  writer(ref: TurnRef, after = 0): TurnEventWriter {
    return new TurnEventWriter(ref, this.hub, this.log, this.config.chat.textDeltaCoalesceMs, this.logger, after);
  }

  /**
   * The user's turn in that conversation, or 404. A turn stored a moment ago may not have its terminal event in
   * the log yet (it is written behind the live stream): this waits for it (within the grace), so the caller can
   * tell a client that has the end (204) from one that needs it.
   */
  async find(ref: TurnRef): Promise<StoredTurn> {
    let turn = await this.messages.findTurn(ref);
    if (!turn) throw turnNotFound(ref.turnId);
    for (const deadline = Date.now() + TERMINAL_GRACE_MS; endingUnlogged(turn) && Date.now() < deadline;) {
      await sleep(TERMINAL_POLL_MS);
      turn = (await this.messages.findTurn(ref)) ?? turn;
    }
    return turn;
  }

  /**
   * Sends the events after `after`, then the live ones, until the terminal event (or `stop`). A turn that
   * ended long ago (its log expired) gets its terminal rebuilt from the stored messages: never a dead end.
   */
  follow(ref: TurnRef, after: number, send: (event: TurnEventRecord) => void): TurnFollower {
    const follower = new TurnFollower(this.hub, ref, after, send, {
      afterReplay: (replayed) => this.endIfEnded(replayed),
    });
    void follower.start();
    return follower;
  }

  /** The stream of a turn this request is about to run (after `after`, its pause's events): no read. */
  followLive(ref: TurnRef, after: number, send: (event: TurnEventRecord) => void): TurnFollower {
    const follower = new TurnFollower(this.hub, ref, after, send);
    follower.watch();
    return follower;
  }

  private async endIfEnded(follower: TurnFollower): Promise<void> {
    const { ref } = follower;
    let turn = await this.messages.findTurn(ref).catch(() => null);
    if (!turn) return follower.stop();
    if (turn.status === 'pending') return;
    if (turn.last_event_id === null) {
      // It ended a moment ago and its writer is finishing, or its replica died between storing and logging.
      await sleep(TERMINAL_GRACE_MS);
      if (follower.finishedSending) return;
      turn = (await this.messages.findTurn(ref).catch(() => null)) ?? turn;
      if (turn.last_event_id === null) {
        await this.log.seal(ref, await this.rebuildTerminal(ref, turn)).catch(() => null);
      }
      return follower.catchUp();
    }
    await follower.catchUp();
    if (follower.finishedSending) return;
    // The client has the end already (it asked after it): nothing more to send.
    if (follower.last >= turn.last_event_id) return follower.stop();
    // The log expired: the terminal event again, from the messages, under the id it had.
    follower.finishWith({ seq: turn.last_event_id, ...(await this.rebuildTerminal(ref, turn)) });
  }

  private async rebuildTerminal(ref: TurnRef, turn: StoredTurn): Promise<Terminal> {
    const answer =
      turn.status === 'completed' ? await this.messages.findAnswer(ref.userId, ref.conversationId, turn) : null;
    if (!answer) {
      const failure = turn.status === 'failed' ? storedTurnFailure(turn.error_code) : null;
      if (!failure) return { type: 'turn.failed', data: interruptedProblem(ref) };
      const error = turnFailed(failure, undefined, { conversationId: ref.conversationId, userMessageId: ref.turnId });
      return { type: 'turn.failed', data: toProblem(error, randomUUID(), turnEventsPath(ref)).problem };
    }
    const result = {
      text: answer.content,
      toolCalls: answer.tool_calls,
      stopReason: answer.stop_reason ?? 'end_turn',
      usage: answer.usage ?? {
        input_tokens: 0,
        output_tokens: 0,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 0,
      },
    };
    const data = toChatTurnDto({
      conversationId: ref.conversationId,
      userMessageId: ref.turnId,
      messageId: answer.id,
      result,
    });
    return { type: 'turn.completed', data };
  }
}

/** 204 for a client that already has the terminal event: EventSource clients stop reconnecting on it. */
export function alreadyEnded(turn: StoredTurn, after: number): boolean {
  return turn.last_event_id !== null && after >= turn.last_event_id;
}

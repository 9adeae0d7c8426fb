import type { AgentTurnResume, PendingToolCall } from '../../agent/agent-turn';
import type { AuthUser } from '../../auth/auth-user';
import type { ChatTurnDto } from '../dto/chat-turn.dto';
import type { TurnRef } from '../turn-events/turn-event';
import type { BusyPolicy, TurnLease } from './turn-lease.service';

export interface SendMessageCommand {
  message: string;
  conversationId?: string;
  idempotencyKey?: string;
  onBusy?: BusyPolicy;
  /** A streaming request's `Last-Event-ID`: it is a reconnect, resumed after that event, never a new turn. */
  resumeAfter?: number;
  /** Where the request came from, for the problem object a failed turn stores in its event log. */
  origin: { requestId: string; instance: string };
}

/** A paused turn taken up again (SPEC §5.3), from what its pause stored, with the user's decisions. */
export interface TurnResume {
  /** The paused answer: the resumed turn ends by updating it in place. */
  answerMessageId: string;
  /** The last event of the pause: the resumed turn's events are numbered on from it. */
  eventsAfter: number;
  state: AgentTurnResume;
  /** A pause closed without running anything (cancelled, expired): its waiting calls are stored as denied with `result`. */
  closed?: { calls: PendingToolCall[]; result: string };
}

export interface HeldTurn {
  user: AuthUser;
  command: SendMessageCommand;
  lease: TurnLease;
  userMessage: { id: string; seq: number };
  ref: TurnRef;
  resume?: TurnResume;
}

export interface TurnRunner {
  run(turn: HeldTurn): Promise<ChatTurnDto>;
  abandon(turn: HeldTurn): Promise<void>;
}

/** Holds its conversation's lease until run or abandoned; abandon after `run` is a no-op, for a `finally`. */
export class StartedTurn {
  readonly kind = 'started' as const;
  private state: 'ready' | 'running' | 'abandoned' = 'ready';

  constructor(
    private readonly runner: TurnRunner,
    private readonly turn: HeldTurn,
  ) {}

  get ref(): TurnRef {
    return this.turn.ref;
  }

  /** Its stream starts after these events (a resumed turn's pause); 0 for a new turn. */
  get eventsAfter(): number {
    return this.turn.resume?.eventsAfter ?? 0;
  }

  /** Its events go to the turn's event log, where every stream of it reads them. */
  run(): Promise<ChatTurnDto> {
    if (this.state !== 'ready') throw new Error(`a turn runs once; this one is ${this.state}`);
    this.state = 'running';
    return this.runner.run(this.turn);
  }

  async abandon(): Promise<void> {
    if (this.state !== 'ready') return;
    this.state = 'abandoned';
    await this.runner.abandon(this.turn);
  }
}

/** An Idempotency-Key repeat: the stored answer, with no model call. */
export interface ReplayedTurn {
  kind: 'replayed';
  response: ChatTurnDto;
  ref: TurnRef;
  resumeAfter?: number;
}

/** A reconnect of a request that already started this turn: its stream resumes after `after`. */
export interface AttachedTurn {
  kind: 'attached';
  ref: TurnRef;
  after: number;
}

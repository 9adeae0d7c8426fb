import type { AgentEvent } from '../../agent/agent-turn';
import type { AuthUser } from '../../auth/auth-user';
import type { ChatTurnDto } from '../dto/chat-turn.dto';
import type { TurnLease } from './turn-lease.service';

export interface SendMessageCommand {
  message: string;
  conversationId?: string;
  idempotencyKey?: string;
}

export interface HeldTurn {
  user: AuthUser;
  command: SendMessageCommand;
  lease: TurnLease;
  userMessage: { id: string; seq: number };
}

export interface TurnRunner {
  run(turn: HeldTurn, onEvent?: (event: AgentEvent) => void): Promise<ChatTurnDto>;
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

  get conversationId(): string {
    return this.turn.lease.conversationId;
  }

  get userMessageId(): string {
    return this.turn.userMessage.id;
  }

  run(onEvent?: (event: AgentEvent) => void): Promise<ChatTurnDto> {
    if (this.state !== 'ready') throw new Error(`a turn runs once; this one is ${this.state}`);
    this.state = 'running';
    return this.runner.run(this.turn, onEvent);
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
}

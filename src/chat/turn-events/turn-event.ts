/** The events of a turn's stream (SPEC §5.1), by their `event:` name. */
export const TURN_EVENT_TYPES = [
  'turn.started',
  'text.delta',
  'tool.started',
  'tool.finished',
  'approval.required',
  'turn.completed',
  'turn.failed',
] as const;
export type TurnEventType = (typeof TURN_EVENT_TYPES)[number];

export const TERMINAL_EVENT_TYPES: readonly TurnEventType[] = ['turn.completed', 'turn.failed'];

/** One stored event: `seq` is its SSE `id:`. */
export interface TurnEventRecord {
  seq: number;
  type: TurnEventType;
  data: unknown;
}

/** Which turn, and whose: every query of the log is scoped by all three. */
export interface TurnRef {
  userId: string;
  conversationId: string;
  turnId: string;
}

export function isTerminal(event: Pick<TurnEventRecord, 'type'>): boolean {
  return TERMINAL_EVENT_TYPES.includes(event.type);
}

/** NOTIFY channels: a turn's log grew (`<turn id>`), a turn was asked to stop (`<turn id>`). */
export const TURN_EVENTS_CHANNEL = 'chat_turn_events';
export const TURN_CANCEL_CHANNEL = 'chat_turn_cancel';

import type Anthropic from '@anthropic-ai/sdk';

/** One tool call of an assistant turn, kept in `messages.tool_calls` in the shape the API returns it. */
export interface StoredToolCall {
  id: string;
  tool: string;
  server: string;
  arguments: Record<string, unknown>;
  result: unknown;
  is_error: boolean;
}

/** Token usage of an assistant turn, kept in `messages.usage` in the Anthropic (and API) shape. */
export interface StoredUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

export interface TranscriptMessage {
  role: 'user' | 'assistant';
  content: unknown[];
}

export interface ContextMessage {
  seq: number;
  role: 'user' | 'assistant';
  content: string;
  transcript: TranscriptMessage[] | null;
}

export type AgentEvent =
  | { type: 'text.delta'; text: string }
  | { type: 'tool.started'; id: string; tool: string; server: string; arguments: Record<string, unknown> }
  | { type: 'tool.finished'; id: string; result: unknown; is_error: boolean };

export interface AgentTurnInput {
  /** Bound by the server from the verified token: tools act for this user only. */
  userId: string;
  token: string;
  /** Earlier completed messages, newest first (at most `CONTEXT_ROW_LIMIT`); windowed to the context budget here. */
  history: readonly ContextMessage[];
  message: string;
  /** The turn's timeout or the shutdown: the turn fails. */
  signal: AbortSignal;
  /** The user stopped the turn: it ends at once with what it has, as `stopReason: 'cancelled'`. */
  cancel?: AbortSignal;
  onEvent?: (event: AgentEvent) => void;
}

export const TOOL_ROUND_LIMIT_STOP_REASON = 'tool_round_limit';
export const CANCELLED_STOP_REASON = 'cancelled';

/** Every stop reason a finished turn can report: the model's own (but `tool_use`, which the loop answers), and ours. */
export const STOP_REASONS = [
  'end_turn',
  'max_tokens',
  'stop_sequence',
  'pause_turn',
  'refusal',
  'model_context_window_exceeded',
  TOOL_ROUND_LIMIT_STOP_REASON,
  CANCELLED_STOP_REASON,
] as const;
// Fails to compile when the SDK adds a stop reason the list does not document.
const _everyStopReasonListed: [Exclude<Anthropic.StopReason, 'tool_use' | (typeof STOP_REASONS)[number]>] extends [
  never,
]
  ? true
  : never = true;

export interface AgentTurnResult {
  text: string;
  toolCalls: StoredToolCall[];
  stopReason: string;
  usage: StoredUsage;
  model: string;
  /** The Anthropic messages after the user's, to replay as context in later turns. */
  transcript: TranscriptMessage[];
}

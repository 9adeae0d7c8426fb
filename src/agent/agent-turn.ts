import type Anthropic from '@anthropic-ai/sdk';

/** One tool call of an assistant turn, kept in `messages.tool_calls` in the shape the API returns it. */
export interface StoredToolCall {
  id: string;
  tool: string;
  server: string;
  arguments: Record<string, unknown>;
  result: unknown;
  is_error: boolean;
  /** Set by the chat layer on the calls that waited for the user (SPEC §5.3); absent on the others. */
  status?: 'awaiting_approval' | 'approved' | 'denied';
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
  /**
   * Goes on with a turn that paused for approval, from what it returned, once the user decided. With `cancel`
   * already fired it runs nothing and needs no decisions: that is how a paused turn that is cancelled ends.
   */
  resume?: AgentTurnResume;
}

/** A tool call of the round a turn paused on, as the user is asked about it. */
export interface PendingToolCall {
  /** The model's tool_use id. */
  id: string;
  tool: string;
  server: string;
  /** As the model gave them; on resume the call runs with the ones in the paused transcript. */
  arguments: Record<string, unknown>;
  /** False for the calls that need none: they wait with the others, and run on resume. */
  needsApproval: boolean;
}

export interface ToolCallDecision {
  approved: boolean;
  /** Handed to the model with a denial. */
  reason?: string;
}

/** A paused turn's own result, passed back unchanged, with the user's decisions. */
export interface AgentTurnResume {
  /** Ends with the assistant message of the paused tool calls: the calls run with its arguments. */
  transcript: TranscriptMessage[];
  toolCalls: StoredToolCall[];
  text: string;
  usage: StoredUsage;
  toolRounds: number;
  /** By tool_use id: exactly one for each pending call that needs approval (a denial also stops one that needs none). */
  decisions: Readonly<Record<string, ToolCallDecision>>;
}

export const TOOL_ROUND_LIMIT_STOP_REASON = 'tool_round_limit';
export const CANCELLED_STOP_REASON = 'cancelled';
export const APPROVAL_REQUIRED_STOP_REASON = 'approval_required';

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
  APPROVAL_REQUIRED_STOP_REASON,
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

/**
 * A turn that stopped before a tool round in which some call needs the user's approval: none of it ran. Its
 * transcript ends with that round's unanswered tool_use blocks, so it resumes the turn and is no context.
 */
export interface PausedAgentTurnResult extends AgentTurnResult {
  stopReason: typeof APPROVAL_REQUIRED_STOP_REASON;
  /** Every call of the paused round, in the model's order. */
  pendingToolCalls: PendingToolCall[];
  /** Rounds used so far, the paused one included: a resume keeps counting towards `CHAT_MAX_TOOL_ROUNDS`. */
  toolRounds: number;
}

export function isAwaitingApproval(result: AgentTurnResult): result is PausedAgentTurnResult {
  return result.stopReason === APPROVAL_REQUIRED_STOP_REASON;
}

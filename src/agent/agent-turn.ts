import type Anthropic from '@anthropic-ai/sdk';
import type { StoredToolCall, StoredUsage, TranscriptMessage } from '../chat/entities/message.entity';

/** What happens during a turn, in order, for clients that watch it live (SSE). */
export type AgentEvent =
  | { type: 'text.delta'; text: string }
  | { type: 'tool.started'; id: string; tool: string; server: string; arguments: Record<string, unknown> }
  | { type: 'tool.finished'; id: string; result: unknown; is_error: boolean };

export interface AgentTurnInput {
  /** Bound by the server from the verified token: tools act for this user only. */
  userId: string;
  token: string;
  /** Earlier turns, oldest first, already windowed to the context budget. */
  context: Anthropic.Messages.MessageParam[];
  message: string;
  signal: AbortSignal;
  onEvent?: (event: AgentEvent) => void;
}

/** The service's own stop reason when the tool round limit forced a final, tool-less answer. */
export const TOOL_ROUND_LIMIT_STOP_REASON = 'tool_round_limit';

export interface AgentTurnResult {
  text: string;
  toolCalls: StoredToolCall[];
  stopReason: string;
  usage: StoredUsage;
  model: string;
  /** The Anthropic messages after the user's, to replay as context in later turns. */
  transcript: TranscriptMessage[];
}

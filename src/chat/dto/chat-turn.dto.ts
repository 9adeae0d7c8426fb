import type Anthropic from '@anthropic-ai/sdk';
import { ApiProperty } from '@nestjs/swagger';
import { TOOL_ROUND_LIMIT_STOP_REASON } from '../../agent/agent-turn';
import { ToolCallDto } from './message.dto';

/** Every stop reason a finished turn can report: the model's own (but `tool_use`, which the loop answers), and ours. */
export const STOP_REASONS = [
  'end_turn',
  'max_tokens',
  'stop_sequence',
  'pause_turn',
  'refusal',
  'model_context_window_exceeded',
  TOOL_ROUND_LIMIT_STOP_REASON,
] as const;
// Fails to compile when the SDK adds a stop reason the list does not document.
const _everyStopReasonListed: [Exclude<Anthropic.StopReason, 'tool_use' | (typeof STOP_REASONS)[number]>] extends [
  never,
]
  ? true
  : never = true;

const TOKEN_COUNT = { type: 'integer', format: 'int64', minimum: 0 } as const;

export class UsageDto {
  @ApiProperty(TOKEN_COUNT)
  input_tokens: number;
  @ApiProperty(TOKEN_COUNT)
  output_tokens: number;
  @ApiProperty(TOKEN_COUNT)
  cache_read_input_tokens: number;
  @ApiProperty(TOKEN_COUNT)
  cache_creation_input_tokens: number;
}

export class ChatTurnDto {
  @ApiProperty({ format: 'uuid' })
  conversation_id: string;
  /** The user's message, stored before the model was called. */
  @ApiProperty({ format: 'uuid' })
  user_message_id: string;
  /** The assistant's message. */
  @ApiProperty({ format: 'uuid' })
  message_id: string;
  /** The assistant's answer (its text across all tool rounds). */
  response: string;
  /** Every tool call of the turn, in the order the model made them. */
  tool_calls: ToolCallDto[];
  /** Why the model stopped (its own reason), or `tool_round_limit` when the tool round limit forced a final answer. */
  @ApiProperty({ enum: STOP_REASONS, enumName: 'StopReason' })
  stop_reason: string;
  /** Tokens of all model calls of the turn, summed. */
  usage: UsageDto;
}

import { ToolCallDto } from './message.dto';

export class UsageDto {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

export class ChatTurnDto {
  conversation_id: string;
  user_message_id: string;
  /** The assistant's message. */
  message_id: string;
  /** The assistant's answer (its text across all tool rounds). */
  response: string;
  /** Every tool call of the turn, in the order the model made them. */
  tool_calls: ToolCallDto[];
  /**
   * Why the model stopped: `end_turn`, `max_tokens`, `stop_sequence`, `refusal`,
   * `model_context_window_exceeded`, or `tool_round_limit` when the tool round limit forced a final answer.
   */
  stop_reason: string;
  /** Tokens of all model calls of the turn, summed. */
  usage: UsageDto;
}

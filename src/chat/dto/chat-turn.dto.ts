import { ApiProperty } from '@nestjs/swagger';
import { STOP_REASONS } from '../../agent/agent-turn';
import { PendingApprovalDto } from '../approvals/dto/pending-approval.dto';
import { ToolCallDto } from './message.dto';

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
  /** The turn: the id of its user message. Attach to its events or cancel it with this. */
  @ApiProperty({ format: 'uuid' })
  turn_id: string;
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
  /** Why the model stopped (its own reason), `tool_round_limit` when the tool round limit forced a final answer, `cancelled` when the turn was cancelled (or its pause closed unanswered), or `approval_required` when it waits for the user. */
  @ApiProperty({ enum: STOP_REASONS, enumName: 'StopReason' })
  stop_reason: string;
  /** Tokens of all model calls of the turn, summed. */
  usage: UsageDto;
  /**
   * Present when `stop_reason` is `approval_required`: the tool calls that wait for the user's decision
   * (`POST .../chat/{conversation_id}/approvals`); none of that round's calls ran.
   */
  @ApiProperty({ type: [PendingApprovalDto], required: false })
  pending_approvals?: PendingApprovalDto[];
}

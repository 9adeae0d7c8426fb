import { ApiProperty } from '@nestjs/swagger';
import { ERROR_CODE_NAMES } from '../../common/errors/error-code';
import { MESSAGE_STATUSES, type MessageRole, type MessageStatus } from '../entities/message.entity';

export const TOOL_CALL_APPROVAL_STATUSES = ['awaiting_approval', 'approved', 'denied'] as const;
type ToolCallApprovalStatus = (typeof TOOL_CALL_APPROVAL_STATUSES)[number];

export class ToolCallDto {
  /** The model's tool_use id. */
  id: string;
  /** The tool's name as the MCP server knows it. */
  tool: string;
  /** The MCP server that served the tool. */
  server: string;
  arguments: Record<string, unknown>;
  /** What the tool returned: its structured content when it gave some, else its text. */
  @ApiProperty({ oneOf: [{ type: 'string' }, { type: 'object', additionalProperties: true }] })
  result: unknown;
  is_error: boolean;
  /**
   * Only on calls that needed the user's approval: `awaiting_approval` while the turn waits (`result` null),
   * then `approved` or `denied` (a denied call did not run; its result says why).
   */
  @ApiProperty({ enum: TOOL_CALL_APPROVAL_STATUSES, required: false })
  status?: ToolCallApprovalStatus;
}

export class MessageDto {
  @ApiProperty({ format: 'uuid' })
  id: string;
  role: MessageRole;
  content: string;
  tool_calls: ToolCallDto[];
  /** `pending` while its turn runs; `failed` when the turn failed (see `error_code`). */
  @ApiProperty({ enum: MESSAGE_STATUSES })
  status: MessageStatus;
  /** Why the turn failed (a problem `code`), else null. */
  @ApiProperty({ type: 'string', enum: ERROR_CODE_NAMES, nullable: true })
  error_code: string | null;
  /** ISO 8601 UTC. */
  @ApiProperty({ format: 'date-time' })
  created_at: string;
}

export class HistoryPageDto {
  @ApiProperty({ format: 'uuid' })
  conversation_id: string;
  /** Oldest to newest within the page; the first page is the newest. */
  messages: MessageDto[];
  has_more: boolean;
  /** Pass as `before` to get the previous (older) page; null when there is none. */
  next_cursor: string | null;
}

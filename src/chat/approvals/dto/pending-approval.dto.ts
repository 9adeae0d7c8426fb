import { ApiProperty } from '@nestjs/swagger';

/** A tool call waiting for the user's decision: decide it with `POST .../chat/{conversation_id}/approvals`. */
export class PendingApprovalDto {
  @ApiProperty({ format: 'uuid' })
  approval_id: string;
  /** The model's tool_use id: the call in `tool_calls`, with `status: "awaiting_approval"`. */
  tool_call_id: string;
  /** The tool's name as the MCP server knows it. */
  tool: string;
  server: string;
  /** As the model gave them: an approved call runs with exactly these. */
  arguments: Record<string, unknown>;
  /** After this (ISO 8601 UTC, `CHAT_APPROVAL_TTL` after the pause) it counts as denied. */
  @ApiProperty({ format: 'date-time' })
  expires_at: string;
}

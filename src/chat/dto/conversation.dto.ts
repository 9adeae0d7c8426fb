import { ApiProperty } from '@nestjs/swagger';
import { PendingApprovalDto } from '../approvals/dto/pending-approval.dto';

export class ActiveTurnDto {
  @ApiProperty({ format: 'uuid' })
  turn_id: string;
  /** ISO 8601 UTC. */
  @ApiProperty({ format: 'date-time' })
  started_at: string;
}

export class ConversationDto {
  @ApiProperty({ format: 'uuid' })
  id: string;
  /** Set from the first message; renamable. */
  title: string | null;
  /** ISO 8601 UTC. */
  @ApiProperty({ format: 'date-time' })
  created_at: string;
  /** Last activity (a turn or a rename), ISO 8601 UTC. */
  @ApiProperty({ format: 'date-time' })
  updated_at: string;
  @ApiProperty({ type: 'integer', format: 'int64', minimum: 0 })
  message_count: number;
  /** The turn running now, to attach to after a reload (`GET .../turns/{turn_id}/events`); null when idle. */
  @ApiProperty({ type: ActiveTurnDto, nullable: true })
  active_turn: ActiveTurnDto | null;
  /**
   * The tool calls the last turn waits on (SPEC §5.3): decide them before the next message; empty when none.
   * The turn's tool calls in history carry `status: "awaiting_approval"` meanwhile.
   */
  @ApiProperty({ type: [PendingApprovalDto] })
  pending_approvals: PendingApprovalDto[];
}

export class ConversationPageDto {
  data: ConversationDto[];
  has_more: boolean;
  /** Pass as `cursor` to get the next (older) page; null on the last page. */
  next_cursor: string | null;
}

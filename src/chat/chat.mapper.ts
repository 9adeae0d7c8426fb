import type { AgentTurnResult, StoredToolCall, StoredUsage } from '../agent/agent-turn';
import type { PendingApprovalRow } from './approvals/approval.repository';
import type { PendingApprovalDto } from './approvals/dto/pending-approval.dto';
import type { ChatTurnDto, UsageDto } from './dto/chat-turn.dto';
import type { ConversationDto } from './dto/conversation.dto';
import type { HistoryPageDto, MessageDto, ToolCallDto } from './dto/message.dto';
import type { ConversationEntity } from './entities/conversation.entity';
import type { MessageEntity } from './entities/message.entity';
import type { HistoryPage } from './history.service';

/** Field by field, jsonb records included: the API can change without migrating what is stored. */
export function toConversationDto(
  conversation: ConversationEntity,
  pendingApprovals: readonly PendingApprovalRow[] = [],
): ConversationDto {
  return {
    id: conversation.id,
    title: conversation.title,
    created_at: conversation.createdAt.toISOString(),
    updated_at: conversation.updatedAt.toISOString(),
    message_count: conversation.messageCount,
    active_turn: activeTurnOf(conversation),
    pending_approvals: pendingApprovals.map(toPendingApprovalDto),
  };
}

function toPendingApprovalDto(row: PendingApprovalRow): PendingApprovalDto {
  return {
    approval_id: row.id,
    tool_call_id: row.tool_call_id,
    tool: row.tool,
    server: row.server,
    arguments: row.arguments,
    expires_at: row.expires_at.toISOString(),
  };
}

/** A lease past its expiry is a dead replica's: that turn is no longer running. */
function activeTurnOf(conversation: ConversationEntity): ConversationDto['active_turn'] {
  const { activeTurnId, activeTurnStartedAt, leaseExpiresAt } = conversation;
  if (!activeTurnId || !activeTurnStartedAt || !leaseExpiresAt || leaseExpiresAt.getTime() <= Date.now()) return null;
  return { turn_id: activeTurnId, started_at: activeTurnStartedAt.toISOString() };
}

export function toMessageDto(message: MessageEntity): MessageDto {
  return {
    id: message.id,
    role: message.role,
    content: message.content,
    tool_calls: message.toolCalls.map(toToolCallDto),
    status: message.status,
    error_code: message.errorCode,
    created_at: message.createdAt.toISOString(),
  };
}

export function toHistoryPageDto(page: HistoryPage): HistoryPageDto {
  return {
    conversation_id: page.conversationId,
    messages: page.messages.map(toMessageDto),
    has_more: page.hasMore,
    next_cursor: page.nextCursor,
  };
}

export function toChatTurnDto(turn: {
  conversationId: string;
  userMessageId: string;
  messageId: string;
  result: Pick<AgentTurnResult, 'text' | 'toolCalls' | 'stopReason' | 'usage'>;
  pendingApprovals?: PendingApprovalDto[];
}): ChatTurnDto {
  const { result, pendingApprovals } = turn;
  return {
    turn_id: turn.userMessageId,
    conversation_id: turn.conversationId,
    user_message_id: turn.userMessageId,
    message_id: turn.messageId,
    response: result.text,
    tool_calls: result.toolCalls.map(toToolCallDto),
    stop_reason: result.stopReason,
    usage: toUsageDto(result.usage),
    ...(pendingApprovals && { pending_approvals: pendingApprovals }),
  };
}

function toToolCallDto(call: StoredToolCall): ToolCallDto {
  return {
    id: call.id,
    tool: call.tool,
    server: call.server,
    arguments: call.arguments,
    result: call.result,
    is_error: call.is_error,
    ...(call.status && { status: call.status }),
  };
}

function toUsageDto(usage: StoredUsage): UsageDto {
  return {
    input_tokens: usage.input_tokens,
    output_tokens: usage.output_tokens,
    cache_read_input_tokens: usage.cache_read_input_tokens,
    cache_creation_input_tokens: usage.cache_creation_input_tokens,
  };
}

import type { AgentTurnResult } from '../agent/agent-turn';
import type { ChatTurnDto } from './dto/chat-turn.dto';
import type { ConversationDto } from './dto/conversation.dto';
import type { MessageDto } from './dto/message.dto';
import type { ConversationEntity } from './entities/conversation.entity';
import type { MessageEntity } from './entities/message.entity';

/** Whitelists the fields a client sees; entities never leave the service. */
export function toConversationDto(conversation: ConversationEntity): ConversationDto {
  return {
    id: conversation.id,
    title: conversation.title,
    created_at: conversation.createdAt.toISOString(),
    updated_at: conversation.updatedAt.toISOString(),
    message_count: conversation.messageCount,
  };
}

export function toMessageDto(message: MessageEntity): MessageDto {
  return {
    id: message.id,
    role: message.role,
    content: message.content,
    tool_calls: message.toolCalls,
    status: message.status,
    error_code: message.errorCode,
    created_at: message.createdAt.toISOString(),
  };
}

export function toChatTurnDto(turn: {
  conversationId: string;
  userMessageId: string;
  messageId: string;
  result: AgentTurnResult;
}): ChatTurnDto {
  const { result } = turn;
  return {
    conversation_id: turn.conversationId,
    user_message_id: turn.userMessageId,
    message_id: turn.messageId,
    response: result.text,
    tool_calls: result.toolCalls,
    stop_reason: result.stopReason,
    usage: result.usage,
  };
}

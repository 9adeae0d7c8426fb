import { Get, Param, Query } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { ApiProblemResponses } from '../common/problem/api-problem-responses.decorator';
import { toMessageDto } from './chat.mapper';
import { ChatService } from './chat.service';
import { ConversationParamsDto } from './dto/conversation-params.dto';
import { HistoryQueryDto } from './dto/history-query.dto';
import { HistoryPageDto } from './dto/message.dto';
import { UserScopedController } from './user-scoped-controller.decorator';

@UserScopedController('chat', 'chat')
export class ChatController {
  constructor(private readonly chat: ChatService) {}

  @Get(':conversation_id/history')
  @ApiOperation({ summary: 'A page of a conversation’s messages, newest page first, oldest→newest within a page' })
  @ApiProblemResponses(404)
  async history(@Param() params: ConversationParamsDto, @Query() query: HistoryQueryDto): Promise<HistoryPageDto> {
    const page = await this.chat.getHistory(params.user_id, params.conversation_id, query.limit, query.before);
    return {
      conversation_id: page.conversationId,
      messages: page.messages.map(toMessageDto),
      has_more: page.hasMore,
      next_cursor: page.nextCursor,
    };
  }
}

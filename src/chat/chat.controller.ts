import { Body, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { ApiProblemResponses } from '../common/problem/api-problem-responses.decorator';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { toChatTurnDto, toMessageDto } from './chat.mapper';
import { ChatService } from './chat.service';
import { ConversationParamsDto } from './dto/conversation-params.dto';
import { HistoryQueryDto } from './dto/history-query.dto';
import { ChatTurnDto } from './dto/chat-turn.dto';
import { HistoryPageDto } from './dto/message.dto';
import { SendMessageDto } from './dto/send-message.dto';
import { UserParamsDto } from './dto/user-params.dto';
import { UserScopedController } from './user-scoped-controller.decorator';

@UserScopedController('chat', 'chat')
export class ChatController {
  constructor(private readonly chat: ChatService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Send a message and get the agent’s answer',
    description:
      'Without `conversation_id` a new conversation is created. The message is stored before the model is ' +
      'called; if the turn fails it stays, marked `failed`, and the problem names `conversation_id` and ' +
      '`user_message_id`.',
  })
  @ApiProblemResponses(404, 413, 415, 502, 503, 504)
  async send(
    @Param() _params: UserParamsDto,
    @Body() body: SendMessageDto,
    @CurrentUser() user: AuthUser,
  ): Promise<ChatTurnDto> {
    const turn = await this.chat.sendMessage(user, { message: body.message, conversationId: body.conversation_id });
    return toChatTurnDto(turn);
  }

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

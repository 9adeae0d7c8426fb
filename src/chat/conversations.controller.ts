import { Body, Delete, Get, HttpCode, Param, Patch, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation } from '@nestjs/swagger';
import { NoQueryDto } from '../common/validation/no-query.dto';
import { ApiProblemResponses } from '../common/problem/api-problem-responses.decorator';
import { toConversationDto } from './chat.mapper';
import { ConversationsService } from './conversations.service';
import { ConversationParamsDto } from './dto/conversation-params.dto';
import { ConversationDto, ConversationPageDto } from './dto/conversation.dto';
import { ListConversationsQueryDto } from './dto/list-conversations-query.dto';
import { RenameConversationDto } from './dto/rename-conversation.dto';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { UserScopedController } from '../auth/user-scoped-controller.decorator';

@UserScopedController('conversations', 'conversations')
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Get()
  @ApiOperation({
    operationId: 'listConversations',
    summary: 'The user’s conversations, most recently active first',
    description: '`limit` conversations a page (default 20); pass `next_cursor` back as `cursor` for the next page.',
  })
  async list(@CurrentUser() user: AuthUser, @Query() query: ListConversationsQueryDto): Promise<ConversationPageDto> {
    const page = await this.conversations.list(user.userId, query.limit, query.cursor);
    const data = page.conversations.map((view) => toConversationDto(view.conversation, view.pendingApprovals));
    return { data, has_more: page.hasMore, next_cursor: page.nextCursor };
  }

  @Get(':conversation_id')
  @ApiOperation({
    operationId: 'getConversation',
    summary: 'One conversation',
    description: 'Another user’s conversation is a 404, the same answer as one that does not exist.',
  })
  @ApiProblemResponses(404)
  async get(@Param() params: ConversationParamsDto, @Query() _query: NoQueryDto): Promise<ConversationDto> {
    const view = await this.conversations.get(params.user_id, params.conversation_id);
    return toConversationDto(view.conversation, view.pendingApprovals);
  }

  @Patch(':conversation_id')
  @ApiOperation({
    operationId: 'renameConversation',
    summary: 'Rename a conversation',
    description: 'Sets the title (1..200 characters once trimmed) and moves `updated_at`.',
  })
  @ApiProblemResponses(404, 415)
  async rename(
    @Param() params: ConversationParamsDto,
    @Query() _query: NoQueryDto,
    @Body() body: RenameConversationDto,
  ): Promise<ConversationDto> {
    const view = await this.conversations.rename(params.user_id, params.conversation_id, body.title);
    return toConversationDto(view.conversation, view.pendingApprovals);
  }

  @Delete(':conversation_id')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'deleteConversation',
    summary: 'Delete a conversation and all its messages',
    description: 'While a turn of it runs the answer is 409 `conversation_busy`: retry after `Retry-After`.',
  })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiProblemResponses(404, 409)
  async delete(@Param() params: ConversationParamsDto, @Query() _query: NoQueryDto): Promise<void> {
    await this.conversations.delete(params.user_id, params.conversation_id);
  }
}

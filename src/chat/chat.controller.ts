import { Body, Get, Headers, HttpCode, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiHeader, ApiOperation, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NoQueryDto } from '../common/validation/no-query.dto';
import { ApiProblemResponses } from '../common/problem/api-problem-responses.decorator';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { toHistoryPageDto } from './chat.mapper';
import { HistoryService } from './history.service';
import { ConversationParamsDto } from './dto/conversation-params.dto';
import { HistoryQueryDto } from './dto/history-query.dto';
import { ChatTurnDto } from './dto/chat-turn.dto';
import { HistoryPageDto } from './dto/message.dto';
import { SendMessageDto } from './dto/send-message.dto';
import { ChatRateLimitGuard } from '../rate-limit/chat-rate-limit.guard';
import { TurnStreamer, wantsEventStream } from './sse/turn-streamer';
import { parseLastEventId } from './turn-events/last-event-id';
import { TurnService } from './turns/turn.service';
import { ApiChatTurnResponse } from './api-chat-turn-response.decorator';
import { UserScopedController } from '../auth/user-scoped-controller.decorator';

@UserScopedController('chat', 'chat')
export class ChatController {
  constructor(
    private readonly turns: TurnService,
    private readonly historyPages: HistoryService,
    private readonly streamer: TurnStreamer,
  ) {}

  @Post()
  @UseGuards(ChatRateLimitGuard)
  @HttpCode(200)
  @ApiOperation({
    operationId: 'sendMessage',
    summary: 'Send a message and get the agent’s answer',
    description:
      'Without `conversation_id` a new conversation is created. The message is stored before the model is ' +
      'called; if the turn fails it stays, marked `failed`, and the problem names `conversation_id` and ' +
      '`user_message_id`. With `Accept: text/event-stream` the turn is streamed as Server-Sent Events, each with ' +
      'an `id`: `turn.started` {turn_id, conversation_id, user_message_id}, `text.delta` {text}, `tool.started` {id, tool, ' +
      'server, arguments}, `tool.finished` {id, result, is_error}, then `turn.completed` (this body) or ' +
      '`turn.failed` (a problem object); a comment line every 15 s keeps proxies from closing it. Errors before the ' +
      'stream starts (401/403/404/409/429…) are plain HTTP problems. A client that disconnects does not cancel the ' +
      'turn: it resumes with `GET .../turns/{turn_id}/events` and the last id it saw, or by sending this request ' +
      'again with `Last-Event-ID` (as EventSource clients do), which attaches to the same turn instead of starting ' +
      'a new one. `on_busy` says what happens while another turn of the conversation runs.',
  })
  @ApiExtraModels(SendMessageDto)
  @ApiBody({
    schema: { $ref: getSchemaPath(SendMessageDto) },
    examples: {
      newConversation: { summary: 'Start a conversation', value: { message: 'Add a task to buy milk' } },
    },
  })
  @ApiChatTurnResponse()
  @ApiHeader({
    name: 'Idempotency-Key',
    schema: { type: 'string', maxLength: 255 },
    required: false,
    description:
      '1..255 visible ASCII characters (0x21–0x7E: letters, digits, punctuation; no spaces), e.g. a UUID; ' +
      'anything else is a 400. Kept 24 h per user. A repeat with the same body returns the stored answer without ' +
      'calling the model (as a stream of only `turn.completed` when streaming); another body is a 422; while ' +
      'the first is still running, a repeat waits briefly, then 409.',
  })
  @ApiProblemResponses(404, 409, 413, 415, 422, 429, 502, 503, 504)
  async send(
    @Query() _query: NoQueryDto,
    @Body() body: SendMessageDto,
    @CurrentUser() user: AuthUser,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Req() request: FastifyRequest,
    // Not passthrough: Nest would send the handler's result after a stream took the reply over.
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const streaming = wantsEventStream(request);
    const turn = await this.turns.start(user, {
      message: body.message,
      conversationId: body.conversation_id,
      idempotencyKey,
      onBusy: body.on_busy,
      resumeAfter: streaming ? parseLastEventId(request.headers['last-event-id']) : undefined,
      origin: { requestId: String(request.id), instance: request.url },
    });
    if (streaming) return this.streamer.stream(request, reply, turn);
    if (turn.kind === 'attached') throw new Error('only a streaming request resumes a turn');
    const answer: ChatTurnDto = turn.kind === 'replayed' ? turn.response : await turn.run();
    void reply.send(answer);
  }

  @Get(':conversation_id/history')
  @ApiOperation({
    operationId: 'getHistory',
    summary: 'A page of a conversation’s messages, newest page first, oldest→newest within a page',
    description:
      'Keyset pagination: `limit` messages a page (default 50); pass `next_cursor` back as `before` for older ones. ' +
      'The messages of a running turn are `pending`; those of a failed turn `failed`, with its `error_code`.',
  })
  @ApiProblemResponses(404)
  async history(@Param() params: ConversationParamsDto, @Query() query: HistoryQueryDto): Promise<HistoryPageDto> {
    return toHistoryPageDto(
      await this.historyPages.page(params.user_id, params.conversation_id, query.limit, query.before),
    );
  }
}

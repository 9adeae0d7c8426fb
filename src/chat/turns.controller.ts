import { Get, Headers, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiProduces, ApiResponse } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiProblemResponses } from '../common/problem/api-problem-responses.decorator';
import { NoQueryDto } from '../common/validation/no-query.dto';
import { UserScopedController } from '../auth/user-scoped-controller.decorator';
import { CancelTurnAcceptedDto } from './dto/cancel-turn.dto';
import { TurnEventsQueryDto } from './dto/turn-events-query.dto';
import { TurnParamsDto } from './dto/turn-params.dto';
import { ApiTurnEventStream } from './api-chat-turn-response.decorator';
import { EVENT_STREAM, TurnStreamer } from './sse/turn-streamer';
import { parseLastEventId } from './turn-events/last-event-id';
import { TurnCancellation } from './turns/turn-cancellation';
import { ApprovalsService } from './approvals/approvals.service';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/current-user.decorator';

/** A turn outlives its connection (SPEC §5.2): follow it from anywhere, or stop it. */
@UserScopedController('chat/:conversation_id/turns', 'chat')
export class TurnsController {
  constructor(
    private readonly streamer: TurnStreamer,
    private readonly cancellation: TurnCancellation,
    private readonly approvals: ApprovalsService,
  ) {}

  @Get(':turn_id/events')
  @ApiOperation({
    operationId: 'getTurnEvents',
    summary: 'Replay a turn’s events, then follow it live until it ends',
    description:
      'Server-Sent Events, the same events with the same ids as the stream of `POST .../chat`: those after ' +
      '`Last-Event-ID` (or `after`; neither = from the start), then the live ones until `turn.completed` or ' +
      '`turn.failed`, then the stream closes. Any replica serves it. After the turn’s events expired ' +
      '(`CHAT_TURN_EVENTS_TTL`), one terminal event rebuilt from the stored messages, under its original id. ' +
      '204 when the client already has the terminal event (EventSource clients then stop reconnecting).',
  })
  @ApiProduces(EVENT_STREAM)
  @ApiTurnEventStream('The turn’s events after the given id.')
  @ApiResponse({ status: 204, description: 'The client already has the turn’s last event: nothing more will come.' })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    schema: { type: 'string', pattern: '^[0-9]{1,10}$', maxLength: 10 },
    description: 'The id of the last event the client has (EventSource sends it when it reconnects).',
  })
  @ApiProblemResponses(404)
  async events(
    @Param() params: TurnParamsDto,
    @Query() query: TurnEventsQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const after = parseLastEventId(lastEventId) ?? query.after ?? 0;
    const ref = { userId: params.user_id, conversationId: params.conversation_id, turnId: params.turn_id };
    await this.streamer.streamStored(request, reply, ref, after);
  }

  @Post(':turn_id/cancel')
  @HttpCode(202)
  @ApiOperation({
    operationId: 'cancelTurn',
    summary: 'Stop a running turn',
    description:
      'The replica running the turn stops it within a second: the model stream is aborted and running tool ' +
      'calls are abandoned; what the turn had is stored as its answer with `stop_reason: "cancelled"`, and its ' +
      'streams end with `turn.completed`. A turn waiting for approval is ended the same way, its pending ' +
      'approvals denied (reason `cancelled`). 409 `turn_not_running` when the turn already ended.',
  })
  @ApiResponse({ status: 202, type: CancelTurnAcceptedDto, description: 'The turn is being stopped.' })
  @ApiProblemResponses(404, 409)
  async cancel(
    @Param() params: TurnParamsDto,
    @Query() _query: NoQueryDto,
    @CurrentUser() user: AuthUser,
    @Req() request: FastifyRequest,
  ): Promise<CancelTurnAcceptedDto> {
    const ref = { userId: params.user_id, conversationId: params.conversation_id, turnId: params.turn_id };
    const origin = { requestId: String(request.id), instance: request.url };
    // A paused turn holds no lease: it is ended here, its pending approvals denied as `cancelled`.
    if (!(await this.approvals.cancelPaused(user, ref, origin))) await this.cancellation.request(ref);
    return { turn_id: ref.turnId, conversation_id: ref.conversationId };
  }
}

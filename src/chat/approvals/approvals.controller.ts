import { Body, HttpCode, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthUser } from '../../auth/auth-user';
import { CurrentUser } from '../../auth/current-user.decorator';
import { UserScopedController } from '../../auth/user-scoped-controller.decorator';
import { ApiProblemResponses } from '../../common/problem/api-problem-responses.decorator';
import { NoQueryDto } from '../../common/validation/no-query.dto';
import { ChatRateLimitGuard } from '../../rate-limit/chat-rate-limit.guard';
import { ApiChatTurnResponse } from '../api-chat-turn-response.decorator';
import { ConversationParamsDto } from '../dto/conversation-params.dto';
import { TurnStreamer, wantsEventStream } from '../sse/turn-streamer';
import { ApprovalsService } from './approvals.service';
import { DecideApprovalsDto } from './dto/decide-approvals.dto';

/** SPEC §5.3: the user's decisions on the calls a turn paused on; the turn then goes on, here. */
@UserScopedController('chat/:conversation_id/approvals', 'chat')
export class ApprovalsController {
  constructor(
    private readonly approvals: ApprovalsService,
    private readonly streamer: TurnStreamer,
  ) {}

  @Post()
  @UseGuards(ChatRateLimitGuard)
  @HttpCode(200)
  @ApiOperation({
    operationId: 'decideApprovals',
    summary: 'Approve or deny the tool calls a turn waits on, and resume it',
    description:
      'A turn that ended with `stop_reason: "approval_required"` waits for a decision on each of its ' +
      '`pending_approvals`; send them all at once. Approved calls run with the arguments stored at the pause ' +
      '(never the client’s); denied ones return "denied by the user[: reason]" to the model, which goes on and ' +
      'may ask again. The answer has the shapes of `POST .../chat`: the resumed turn as JSON, or with ' +
      '`Accept: text/event-stream` its events, under the same `turn_id`, with ids continuing after the pause’s. ' +
      'Decisions are single-use: 409 `approval_not_pending` for one already decided or expired; 404 ' +
      '`approval_not_found` for an unknown one; 400 when a pending approval of the turn is missing from the body.',
  })
  @ApiChatTurnResponse()
  @ApiProblemResponses(404, 409, 413, 415, 429, 502, 503, 504)
  async decide(
    @Param() params: ConversationParamsDto,
    @Query() _query: NoQueryDto,
    @Body() body: DecideApprovalsDto,
    @CurrentUser() user: AuthUser,
    @Req() request: FastifyRequest,
    // Not passthrough: Nest would send the handler's result after a stream took the reply over.
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const decisions = body.decisions.map((decision) => ({
      approvalId: decision.approval_id,
      approved: decision.decision === 'approve',
      reason: decision.reason,
    }));
    const origin = { requestId: String(request.id), instance: request.url };
    const turn = await this.approvals.decide(user, params.conversation_id, decisions, origin);
    if (wantsEventStream(request)) return this.streamer.stream(request, reply, turn);
    void reply.send(await turn.run());
  }
}

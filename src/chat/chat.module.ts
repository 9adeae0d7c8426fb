import { Module } from '@nestjs/common';
import { ChatController } from './chat.controller';
import { AgentModule } from '../agent/agent.module';
import { HistoryService } from './history.service';
import { ConversationsController } from './conversations.controller';
import { ConversationsService } from './conversations.service';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { IdempotencyKeyRepository } from './idempotency/idempotency-key.repository';
import { IdempotencyService } from './idempotency/idempotency.service';
import { ExpiredLeaseSweeper } from './turns/expired-lease-sweeper';
import { TurnStreamer } from './sse/turn-streamer';
import { RunningTurns } from './turns/running-turns';
import { TurnLeaseService } from './turns/turn-lease.service';
import { TurnService } from './turns/turn.service';
import { ConversationRepository } from './repositories/conversation.repository';
import { MessageRepository } from './repositories/message.repository';
import { InterruptedTurns } from './turn-events/interrupted-turns';
import { TurnEventHub } from './turn-events/turn-event-hub';
import { TurnEventRepository } from './turn-events/turn-event.repository';
import { TurnEvents } from './turn-events/turn-events.service';
import { TurnEventsExpiry } from './turn-events/turn-events-expiry';
import { TurnCancellation } from './turns/turn-cancellation';
import { TurnsController } from './turns.controller';
import { ApprovalExpiry } from './approvals/approval-expiry';
import { ApprovalRepository } from './approvals/approval.repository';
import { ApprovalsController } from './approvals/approvals.controller';
import { ApprovalsService } from './approvals/approvals.service';
import { PausedTurns } from './approvals/paused-turns';

@Module({
  imports: [AgentModule, RateLimitModule],
  controllers: [ChatController, TurnsController, ApprovalsController, ConversationsController],
  providers: [
    TurnService,
    ConversationsService,
    HistoryService,
    ConversationRepository,
    MessageRepository,
    TurnLeaseService,
    RunningTurns,
    ExpiredLeaseSweeper,
    TurnStreamer,
    IdempotencyService,
    IdempotencyKeyRepository,
    TurnEventRepository,
    TurnEventHub,
    TurnEvents,
    TurnEventsExpiry,
    InterruptedTurns,
    TurnCancellation,
    ApprovalRepository,
    PausedTurns,
    ApprovalsService,
    ApprovalExpiry,
  ],
})
export class ChatModule {}

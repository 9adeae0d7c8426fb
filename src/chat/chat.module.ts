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

@Module({
  imports: [AgentModule, RateLimitModule],
  controllers: [ChatController, ConversationsController],
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
  ],
})
export class ChatModule {}

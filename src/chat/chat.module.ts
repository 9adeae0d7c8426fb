import { Module } from '@nestjs/common';
import { ChatController } from './chat.controller';
import { ChatService } from './chat.service';
import { ConversationsController } from './conversations.controller';
import { ConversationsService } from './conversations.service';
import { ConversationRepository } from './repositories/conversation.repository';
import { MessageRepository } from './repositories/message.repository';

@Module({
  controllers: [ChatController, ConversationsController],
  providers: [ChatService, ConversationsService, ConversationRepository, MessageRepository],
})
export class ChatModule {}

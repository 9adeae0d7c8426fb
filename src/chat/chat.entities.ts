import { ConversationEntity } from './entities/conversation.entity';
import { MessageEntity } from './entities/message.entity';
import { IdempotencyKeyEntity } from './entities/idempotency-key.entity';
import { TurnEventEntity } from './turn-events/turn-event.entity';

export const CHAT_ENTITIES = [ConversationEntity, MessageEntity, IdempotencyKeyEntity, TurnEventEntity];

import { ConversationEntity } from './entities/conversation.entity';
import { MessageEntity } from './entities/message.entity';
import { IdempotencyKeyEntity } from './entities/idempotency-key.entity';

export const CHAT_ENTITIES = [ConversationEntity, MessageEntity, IdempotencyKeyEntity];

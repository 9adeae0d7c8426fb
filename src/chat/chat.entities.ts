import { ConversationEntity } from './entities/conversation.entity';
import { IdempotencyKeyEntity } from './entities/idempotency-key.entity';
import { MessageEntity } from './entities/message.entity';

export const CHAT_ENTITIES = [ConversationEntity, MessageEntity, IdempotencyKeyEntity];

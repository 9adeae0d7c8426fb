import { ConversationEntity } from './entities/conversation.entity';
// Before idempotency-key.entity: the Swagger plugin lists a union's members in the order TypeScript first
// met them, and this file is compiled first, so this keeps MessageStatus's enum in openapi.json as declared.
import { MessageEntity } from './entities/message.entity';
import { IdempotencyKeyEntity } from './entities/idempotency-key.entity';

export const CHAT_ENTITIES = [ConversationEntity, MessageEntity, IdempotencyKeyEntity];

import { ConversationEntity } from './entities/conversation.entity';
import { MessageEntity } from './entities/message.entity';
import { IdempotencyKeyEntity } from './entities/idempotency-key.entity';
import { TurnEventEntity } from './turn-events/turn-event.entity';
import { ApprovalEntity } from './approvals/approval.entity';

export const CHAT_ENTITIES = [ConversationEntity, MessageEntity, IdempotencyKeyEntity, TurnEventEntity, ApprovalEntity];

import { DataSource } from 'typeorm';
import { ConversationEntity } from '../../src/chat/entities/conversation.entity';

export async function insertConversation(
  dataSource: DataSource,
  overrides: Partial<ConversationEntity> & { userId: string },
): Promise<ConversationEntity> {
  const repository = dataSource.getRepository(ConversationEntity);
  return repository.save(repository.create({ title: 'A conversation', messageCount: 0, ...overrides }));
}

/**
 * Appends `count` alternating user/assistant messages in one statement (fast enough for 100,000),
 * keeping `message_count` in step with the highest seq as the service does.
 */
export async function insertMessages(
  dataSource: DataSource,
  conversation: ConversationEntity,
  count: number,
): Promise<void> {
  await dataSource.query(
    `INSERT INTO messages (conversation_id, user_id, seq, role, content, status)
     SELECT $1, $2, c.message_count + g, CASE WHEN g % 2 = 1 THEN 'user' ELSE 'assistant' END,
            'message ' || (c.message_count + g), 'completed'
     FROM conversations c, generate_series(1, $3::int) AS g WHERE c.id = $1`,
    [conversation.id, conversation.userId, count],
  );
  await dataSource.query(
    `UPDATE conversations SET message_count = message_count + $2, updated_at = now() WHERE id = $1`,
    [conversation.id, count],
  );
  conversation.messageCount += count;
}

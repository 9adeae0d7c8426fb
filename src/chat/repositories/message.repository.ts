import { Injectable } from '@nestjs/common';
import { DataSource, Repository } from 'typeorm';
import { MessageEntity } from '../entities/message.entity';

@Injectable()
export class MessageRepository {
  private readonly repository: Repository<MessageEntity>;

  constructor(dataSource: DataSource) {
    this.repository = dataSource.getRepository(MessageEntity);
  }

  /**
   * Newest first, before `beforeSeq` when given: a keyset scan of the (conversation_id, seq) index,
   * so a page costs the same at message 10 and 100,000. The owner is part of the query.
   */
  findPageBefore(userId: string, conversationId: string, limit: number, beforeSeq?: number): Promise<MessageEntity[]> {
    const query = this.repository
      .createQueryBuilder('m')
      .where('m.conversation_id = :conversationId AND m.user_id = :userId', { conversationId, userId })
      .orderBy('m.seq', 'DESC')
      .limit(limit);
    if (beforeSeq !== undefined) query.andWhere('m.seq < :beforeSeq', { beforeSeq });
    return query.getMany();
  }
}

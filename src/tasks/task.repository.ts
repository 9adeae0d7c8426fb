import { Injectable } from '@nestjs/common';
import { DataSource, Repository } from 'typeorm';
import { PreparedStatements } from '../database/prepared-statements';
import { lockUserQuota } from '../database/user-quota-lock';
import { TaskEntity } from './task.entity';
import { CREATE_TASK_WITHIN_QUOTA, type TaskRow } from './task.statements';

export type TaskStatusFilter = 'all' | 'pending' | 'completed';

/** What `update_task` may change; `description: null` clears it. */
export interface TaskChanges {
  title?: string;
  description?: string | null;
}

/** Every query names the owner, so another user's task is indistinguishable from none, whatever id the model passes. */
@Injectable()
export class TaskRepository {
  private readonly repository: Repository<TaskEntity>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly statements: PreparedStatements,
  ) {
    this.repository = dataSource.getRepository(TaskEntity);
  }

  /** Null at `maxTasks`; under the user's quota lock, so concurrent calls cannot overshoot the cap. */
  createWithinQuota(
    userId: string,
    task: { title: string; description: string | null },
    maxTasks: number,
  ): Promise<TaskEntity | null> {
    return this.dataSource.transaction(async (manager) => {
      const transaction = this.statements.inTransaction(manager);
      await lockUserQuota(transaction, 'tasks', userId);
      return toEntity(
        await transaction.rows(CREATE_TASK_WITHIN_QUOTA, [userId, task.title, task.description, maxTasks]),
      );
    });
  }

  listForUser(userId: string, status: TaskStatusFilter, limit: number, afterId?: number): Promise<TaskEntity[]> {
    const query = this.repository
      .createQueryBuilder('t')
      .where('t.user_id = :userId', { userId })
      .orderBy('t.id', 'ASC')
      .limit(limit);
    if (status !== 'all') query.andWhere('t.completed = :completed', { completed: status === 'completed' });
    if (afterId !== undefined) query.andWhere('t.id > :afterId', { afterId });
    return query.getMany();
  }

  completeForUser(userId: string, id: number): Promise<TaskEntity | null> {
    return this.updateOwned(userId, id, { completed: true });
  }

  updateForUser(userId: string, id: number, changes: TaskChanges): Promise<TaskEntity | null> {
    return this.updateOwned(userId, id, changes);
  }

  async deleteForUser(userId: string, id: number): Promise<TaskEntity | null> {
    const result = await this.repository
      .createQueryBuilder()
      .delete()
      .where('id = :id AND user_id = :userId', { id, userId })
      .returning('*')
      .execute();
    return toEntity(result.raw);
  }

  private async updateOwned(
    userId: string,
    id: number,
    changes: TaskChanges & { completed?: boolean },
  ): Promise<TaskEntity | null> {
    const result = await this.repository
      .createQueryBuilder()
      .update()
      .set({ ...changes, updatedAt: () => 'now()' })
      .where('id = :id AND user_id = :userId', { id, userId })
      .returning('*')
      .execute();
    return toEntity(result.raw);
  }
}

function toEntity([row]: TaskRow[]): TaskEntity | null {
  if (row === undefined) return null;
  return Object.assign(new TaskEntity(), {
    id: row.id,
    userId: row.user_id,
    title: row.title,
    description: row.description,
    completed: row.completed,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const TASK_TITLE_MAX_LENGTH = 200;
export const TASK_DESCRIPTION_MAX_LENGTH = 1000;

/** Small integer ids the model can read back ("task 3"); every query pairs them with the owner. */
@Entity({ name: 'tasks' })
@Index('IDX_tasks_user_id_completed', ['userId', 'completed'])
@Check('CHK_tasks_title_length', `char_length(title) BETWEEN 1 AND ${TASK_TITLE_MAX_LENGTH}`)
@Check('CHK_tasks_description_length', `char_length(description) <= ${TASK_DESCRIPTION_MAX_LENGTH}`)
export class TaskEntity {
  @PrimaryGeneratedColumn('identity', { generatedIdentity: 'BY DEFAULT', primaryKeyConstraintName: 'PK_tasks' })
  id: number;

  @Column({ name: 'user_id', type: 'text' })
  userId: string;

  @Column({ type: 'text' })
  title: string;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column({ type: 'boolean', default: false })
  completed: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

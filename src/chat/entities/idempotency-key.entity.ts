import { Check, Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export type IdempotencyState = 'in_flight' | 'completed';

/** A request made with an Idempotency-Key: its fingerprint, and its answer once it has one. */
@Entity({ name: 'idempotency_keys' })
@Check('CHK_idempotency_keys_state', `state IN ('in_flight', 'completed')`)
@Index('IDX_idempotency_keys_created_at', ['createdAt'])
export class IdempotencyKeyEntity {
  @PrimaryColumn({ name: 'user_id', type: 'text', primaryKeyConstraintName: 'PK_idempotency_keys' })
  userId: string;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'PK_idempotency_keys' })
  key: string;

  /** SHA-256 of the request that first used the key; another body with the same key is a 422. */
  @Column({ type: 'text' })
  fingerprint: string;

  @Column({ type: 'text', default: 'in_flight' })
  state: IdempotencyState;

  /** The stored answer, the JSON body of the 200, kept as text so a replay is byte-identical. */
  @Column({ type: 'text', nullable: true })
  response: string | null;

  /** While in flight: after this, the first request is presumed dead and a repeat may take over. */
  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

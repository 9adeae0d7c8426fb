import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** Constraint and index names are spelled out so the entity and the migrations agree on them. */
@Entity({ name: 'conversations' })
@Index('IDX_conversations_user_id_updated_at_id', ['userId', 'updatedAt', 'id'])
/** Only conversations with a turn running (few): what the expired-lease sweep scans. */
@Index('IDX_conversations_lease_expires_at', ['leaseExpiresAt'], { where: 'lease_expires_at IS NOT NULL' })
export class ConversationEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_conversations' })
  id: string;

  @Column({ name: 'user_id', type: 'text' })
  userId: string;

  @Column({ type: 'text', nullable: true })
  title: string | null;

  /** Also the allocator of message `seq`: `UPDATE ... SET message_count = message_count + 1 RETURNING`. */
  @Column({ name: 'message_count', type: 'integer', default: 0 })
  messageCount: number;

  /** The turn lease: which replica runs this conversation's turn, and until when. */
  @Column({ name: 'lease_owner', type: 'text', nullable: true })
  leaseOwner: string | null;

  @Column({ name: 'lease_expires_at', type: 'timestamptz', nullable: true })
  leaseExpiresAt: Date | null;

  /** The running turn (its user message id) while the lease is held: what a reloading client attaches to. */
  @Column({ name: 'active_turn_id', type: 'uuid', nullable: true })
  activeTurnId: string | null;

  @Column({ name: 'active_turn_started_at', type: 'timestamptz', nullable: true })
  activeTurnStartedAt: Date | null;

  /** Set by the cancel route; the replica running the turn stops it when it learns. */
  @Column({ name: 'cancel_requested_at', type: 'timestamptz', nullable: true })
  cancelRequestedAt: Date | null;

  /** The turn paused for the user's approval: until it is decided (or expires) the conversation takes no message. */
  @Column({ name: 'awaiting_approval_turn_id', type: 'uuid', nullable: true })
  awaitingApprovalTurnId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
